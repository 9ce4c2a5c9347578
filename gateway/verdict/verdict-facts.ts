import DataLoader from 'dataloader';
import { parse } from 'graphql';
import { DATA_SUBGRAPHS, type DataSubgraphName } from '../../lib/schema/contract.js';
import type { RegistryDirectory } from '../directory/registry-directory.js';
import { routeEntities } from '../routing/entity-router.js';
import type { OperationOptions, RegistryClient } from '../routing/registry-client.js';
import type { VerificationFacts } from './verdict.js';

/**
 * The facts behind a verdict, gathered by the gateway itself: per client request, the codes asked are
 * batched and each data subgraph of the owning registry gets one compact `_entities` fetch of
 * `Verification` representations, through the same routing as every entity fetch (split by country,
 * signed, guarded, deduplicated, checked by key, conformance-gated, older partners handled). The
 * query planner then has nothing to merge: four times a thousand entities cost it more than the rest.
 */
export type FactSource = (code: string, context: unknown) => Promise<VerificationFacts>;

/** What each subgraph contributes (the partner contract: docs/partner-contract.md, "Facts"). */
const FACT_SELECTIONS: Record<DataSubgraphName, string> = {
  units: 'registration { registered }',
  enterprises: 'enterpriseStatus',
  'product-models': 'modelStatus openRecallCampaigns',
  lifecycle: 'lifecycleState remediedRecalls',
};

const FETCHES = DATA_SUBGRAPHS.map((subgraph) => {
  const query = `query VerificationFacts__${subgraph.replace('-', '_')}($representations: [_Any!]!) { _entities(representations: $representations) { ... on Verification { ${FACT_SELECTIONS[subgraph]} } } }`;
  return { subgraph, query, document: parse(query) };
});

/**
 * `code` is canonical and of a country some registry serves. A fact is null when its registry could not
 * answer (down, timed out, refused, answered another key): the verdict reads that as unavailable.
 */
export function verdictFacts(directory: () => RegistryDirectory, client: RegistryClient): FactSource {
  const loaders = new WeakMap<object, DataLoader<string, VerificationFacts>>();
  const batch = async (codes: readonly string[], context: unknown): Promise<VerificationFacts[]> => {
    const facts: VerificationFacts[] = codes.map(() => ({}));
    const representations = codes.map((code) => ({ __typename: 'Verification', code }));
    // Read once: a directory reload mid-request must not split one batch across two directories.
    const current = directory();
    await Promise.all(
      FETCHES.map(async ({ subgraph, query, document }) => {
        const options = {
          kind: 'incoming operation',
          request: { query, variables: { representations } },
          document,
          context,
        } as unknown as OperationOptions;
        const answer = await routeEntities(subgraph, options, representations, current, client);
        const entities = (answer.data?._entities ?? []) as (Record<string, unknown> | null)[];
        entities.forEach((entity, i) => entity && Object.assign(facts[i]!, withoutTypename(entity)));
      }),
    );
    return facts;
  };
  // One loader per client request: its caller's rights, request id and failed registries go with it.
  const loaderFor = (context: unknown) => {
    const make = () => new DataLoader<string, VerificationFacts>((codes) => batch(codes, context), { maxBatchSize: 1_000 });
    if (typeof context !== 'object' || context === null) return make();
    let loader = loaders.get(context);
    if (!loader) loaders.set(context, (loader = make()));
    return loader;
  };
  return (code, context) => loaderFor(context).load(code);
}

function withoutTypename({ __typename: _, ...facts }: Record<string, unknown>): VerificationFacts {
  return facts as VerificationFacts;
}
