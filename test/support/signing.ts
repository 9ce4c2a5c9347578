import { randomBytes } from 'node:crypto';
import type { NodeSubgraphName } from '../../lib/schema/contract.js';
import { signRequest } from '../../lib/security/request-signer.js';
import type { SigningOptions } from '../../lib/security/signing-secret.js';
import type { Caller } from '../../lib/server/request-context.js';

/**
 * One secret shared by every node and gateway a test starts (as NODE_SIGNING_SECRET would be), and the
 * environment variable partner entries of a test directory name for it (`signing: { fromEnv }`).
 */
export const TEST_SIGNING: SigningOptions = { secret: randomBytes(32) };
export const TEST_SIGNING_ENV = 'REGISTRY_TEST_SIGNING_SECRET';
process.env[TEST_SIGNING_ENV] = TEST_SIGNING.secret.toString('hex');

/** Who a signed test request is from unless a test says otherwise: the authority, which may do everything. */
export const TEST_AUTHORITY: Caller = { subject: 'test-authority', role: 'authority' };

/** POSTs a GraphQL body straight to a node's subgraph, signed as the gateway would sign it. */
export async function signedPost(
  url: string,
  subgraph: NodeSubgraphName,
  payload: unknown,
  options: { caller?: Caller | null; requestId?: string } = {},
): Promise<Response> {
  const body = JSON.stringify(payload);
  const headers = signRequest(TEST_SIGNING.secret, {
    body,
    requestId: options.requestId ?? `test-${randomBytes(6).toString('hex')}`,
    caller: 'caller' in options ? (options.caller ?? null) : TEST_AUTHORITY,
  });
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

/** `fetch` to a node's subgraph with the body signed for it: the drop-in for tests that post straight to a node. */
export async function signedFetch(url: string, subgraph: NodeSubgraphName, init: { method?: string; headers?: Record<string, string>; body: string }): Promise<Response> {
  const headers = signRequest(TEST_SIGNING.secret, { body: init.body, requestId: `test-${randomBytes(6).toString('hex')}`, caller: TEST_AUTHORITY });
  return fetch(url, { ...init, method: init.method ?? 'POST', headers: { ...init.headers, ...headers } });
}
