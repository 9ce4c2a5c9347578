import { randomUUID } from 'node:crypto';
import { REQUEST_ID_HEADER } from '../../lib/server/request-context.js';
import { shown, type Findings } from './findings.js';

const TIMEOUT_MS = 5_000;

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
    const body = JSON.stringify({ query: 'query ConformanceCredential { _service { sdl } }' });
    let status: number;
    let answer: { errors?: { extensions?: Record<string, unknown> }[]; data?: unknown } | null = null;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [REQUEST_ID_HEADER]: randomUUID(), ...variant.headers },
        body,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      status = response.status;
      try {
        answer = JSON.parse(await response.text());
      } catch {
        answer = null;
      }
    } catch (error) {
      problems.push(`a request ${variant.what}: expected HTTP 401 with an UNAUTHENTICATED error, got no answer (${(error as Error).message})`);
      continue;
    }
    const codes = (answer?.errors ?? []).map((e) => e?.extensions?.code);
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
