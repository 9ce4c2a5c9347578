// A statement the database refused because of a value a client sent (SQLSTATE class 22, "data
// exception"): the client's mistake, not a bug, so it is answered as BAD_USER_INPUT and logged at info
// without a stack (lib/server/mask-errors.ts). Every input should be checked before it gets here; this
// is the net for what a check missed (a NUL byte in a name sent straight to a subgraph, say).

/** SQLSTATEs caused by the value itself, with what the client is told (never the SQL or the value). */
const CLIENT_DATA: Record<string, string> = {
  '22021': 'a text value holds a character the registry cannot store (a NUL byte, say)',
  '22P05': 'a text value holds a character the registry cannot store',
  '22001': 'a text value is longer than the registry stores',
  '22003': 'a number is out of the range the registry stores',
  '22008': 'a date or time is out of the range the registry stores',
};

/** The public message for a client-caused data exception in `err`'s cause chain, else undefined. */
export function findClientDataProblem(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { originalError?: unknown }).originalError ?? (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code in CLIENT_DATA) return CLIENT_DATA[code];
  }
  return undefined;
}
