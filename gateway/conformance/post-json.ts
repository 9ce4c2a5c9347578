import { randomUUID } from 'node:crypto';
import { REQUEST_ID_HEADER } from '../../lib/server/request-context.js';

const TIMEOUT_MS = 5_000;

/**
 * One POST of the conformance check: JSON body, its own `x-request-id` (so the node's log lines of the
 * check can be told apart), a 5 s limit. `answer` is null when the body is not JSON; a request that gets
 * no answer at all throws.
 */
export async function postJson(
  url: string,
  headers: Readonly<Record<string, string>>,
  body: string,
  requestId: string = randomUUID(),
): Promise<{ status: number; answer: { data?: any; errors?: unknown[] } | null }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [REQUEST_ID_HEADER]: requestId, ...headers },
    body,
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await response.text();
  try {
    return { status: response.status, answer: JSON.parse(text) };
  } catch {
    return { status: response.status, answer: null };
  }
}
