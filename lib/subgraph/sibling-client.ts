import type { DataSubgraphName } from '../schema/contract.js';
import { registryError } from '../errors.js';
import { requestContextHeaders, type RequestContext } from '../server/request-context.js';
import { signRequest } from '../security/request-signer.js';
import type { SigningOptions } from '../security/signing-secret.js';

/**
 * Reads entities owned by another subgraph of the same node, through that subgraph's public
 * `_entities` contract: a write that depends on another subgraph's data (a unit needs a registered
 * model) checks it this way instead of reading the other subgraph's tables.
 */
export interface SiblingClient {
  lookup<T>(
    subgraph: DataSubgraphName,
    typename: string,
    codes: readonly string[],
    selection: string,
    context: RequestContext,
  ): Promise<(T | null)[]>;
}

const TIMEOUT_MS = 10_000;

/** With `signing`, each call is signed as the node itself (`node:<country>`), under the caller's request id. */
export function httpSiblingClient(
  urls: () => Partial<Record<DataSubgraphName, string>>,
  signing?: SigningOptions & { country: string },
): SiblingClient {
  return {
    async lookup<T>(
      subgraph: DataSubgraphName,
      typename: string,
      codes: readonly string[],
      selection: string,
      context: RequestContext,
    ) {
      if (codes.length === 0) return [];
      const url = urls()[subgraph];
      if (!url) throw new Error(`no URL configured for the ${subgraph} subgraph`);
      const query = `query($r: [_Any!]!) { _entities(representations: $r) { ... on ${typename} { ${selection} } } }`;
      const representations = codes.map((code) => ({ __typename: typename, code }));
      const request = JSON.stringify({ query, variables: { r: representations } });
      const signature = signing
        ? signRequest(signing.secret, {
            body: request,
            requestId: context.requestId,
            caller: { subject: `node:${signing.country}`, role: 'authority', country: signing.country },
          })
        : {};
      let body: { data?: { _entities?: (T | null)[] }; errors?: { message: string; extensions?: { code?: unknown } }[] };
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...requestContextHeaders(context), ...signature },
          body: request,
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        body = (await response.json()) as typeof body;
      } catch (error) {
        context.log.error({ err: error, subgraph }, 'sibling lookup failed');
        throw registryError('REGISTRY_UNAVAILABLE', `the ${subgraph} service of this registry did not answer; nothing was written`);
      }
      const entities = body.data?._entities;
      // A null next to errors means "could not look", never "not registered": the whole write is refused.
      if (!entities || entities.length !== codes.length || (body.errors?.length ?? 0) > 0) {
        context.log.error({ subgraph, errors: body.errors }, 'sibling lookup failed: errors in the answer');
        throw registryError('REGISTRY_UNAVAILABLE', `the ${subgraph} service of this registry could not answer; nothing was written`);
      }
      return entities;
    },
  };
}
