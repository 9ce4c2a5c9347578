import { codeOf, errorsOf, shown, type Findings } from './findings.js';
import { postJson } from './post-json.js';

/**
 * When the node is given a credential header (the directory entry's `credentials`, the CLI's --header),
 * a request without it and one with a wrong value must both be refused: HTTP 401 and a GraphQL error
 * with extensions.code UNAUTHENTICATED. Both are sent unsigned, as a stranger's would be: a node that also
 * checks signatures (this software with a signing secret) refuses them for that, which protects it as well.
 */
export async function credentialFindings(url: string, headers: Readonly<Record<string, string>>): Promise<Findings> {
  const problems: string[] = [];
  const names = Object.keys(headers);
  if (names.length === 0) return { problems, notes: [] };
  const variants: { what: string; headers: Record<string, string> }[] = [
    { what: `without its credential header ${names.join(', ')}`, headers: Object.fromEntries(Object.entries(headers).filter(([n]) => !names.includes(n))) },
    { what: `with a wrong value of ${names.join(', ')}`, headers: Object.fromEntries(Object.entries(headers).map(([n, v]) => [n, wrongValue(v)])) },
  ];
  for (const variant of variants) {
    let reply: Awaited<ReturnType<typeof postJson>>;
    try {
      reply = await postJson(url, variant.headers, JSON.stringify({ query: 'query ConformanceCredential { _service { sdl } }' }));
    } catch (error) {
      problems.push(`a request ${variant.what}: expected HTTP 401 with an UNAUTHENTICATED error, got no answer (${(error as Error).message})`);
      continue;
    }
    const { status, answer } = reply;
    const codes = answer ? errorsOf(answer).map(codeOf) : [];
    if (status === 200 && answer?.data) {
      problems.push(`answers without its credential: a request ${variant.what} got HTTP 200 with data; expected HTTP 401 with an UNAUTHENTICATED error`);
    } else if (status !== 401 || !codes.includes('UNAUTHENTICATED')) {
      problems.push(`a request ${variant.what}: expected HTTP 401 with a GraphQL error extensions.code UNAUTHENTICATED, got HTTP ${status} with ${answer ? `error codes ${shown(codes)}` : 'no JSON body'}`);
    }
  }
  return { problems, notes: [] };
}

function wrongValue(value: string): string {
  // Same shape (e.g. "Bearer ..."), different secret.
  const space = value.lastIndexOf(' ');
  const secret = value.slice(space + 1);
  return value.slice(0, space + 1) + (secret ? `${secret.slice(0, -1)}${secret.endsWith('x') ? 'y' : 'x'}` : 'wrong');
}
