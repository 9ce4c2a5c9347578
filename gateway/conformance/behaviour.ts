import { Kind, parse, type ObjectTypeDefinitionNode } from 'graphql';
import { loadSdl, type DataSubgraphName } from '../../lib/schema/contract.js';

export type Send = (query: string, variables?: Record<string, unknown>) => Promise<{ data?: any; errors?: unknown[] }>;

/** Types the subgraph is the origin of: an unknown key must come back null there. */
const OWNED: Record<DataSubgraphName, string[]> = {
  enterprises: ['Enterprise'],
  'product-models': ['ProductModel', 'RecallCampaign'],
  units: ['Unit'],
  lifecycle: [],
};

/**
 * The verdict facts each subgraph owes a well-formed unit code of its country that it does not know
 * (docs/partner-contract.md, "Verification facts"): the gateway reads a null fact about a registered unit
 * as "this registry could not answer", so an unknown code must get these, never null.
 */
const UNKNOWN_UNIT_FACTS: Record<DataSubgraphName, { selection: string; expected: Record<string, unknown> } | null> = {
  enterprises: null,
  'product-models': { selection: 'openRecallCampaigns', expected: { openRecallCampaigns: [] } },
  units: { selection: 'registration { registered }', expected: { registration: { registered: false } } },
  lifecycle: { selection: 'lifecycleState remediedRecalls', expected: { lifecycleState: 'REGISTERED', remediedRecalls: [] } },
};

/** Length of the key of each code-keyed entity; every key starts with the country segment. */
const KEY_LENGTH: Record<string, number> = { Enterprise: 6, ProductModel: 12, RecallCampaign: 17, Unit: 29, Verification: 29 };

/**
 * Checks the behaviour the gateway relies on for every entity the subgraph resolves: one answer per
 * representation, in order; null for a key of another country and for a malformed key; null for an
 * unknown key of a type it owns; never null for its own Registry or a Verification of its country, with
 * the facts an unknown unit gets; the key echoed back on every answer.
 */
export async function behaviourProblems(subgraph: DataSubgraphName, country: string, send: Send): Promise<string[]> {
  const problems: string[] = [];
  const foreign = country === 'QQ' ? 'QZ' : 'QQ';
  for (const type of resolvableEntities(subgraph)) {
    const keyField = type === 'Registry' ? 'country' : 'code';
    const own = type === 'Registry' ? country : unknownCode(country, KEY_LENGTH[type] ?? 29, type);
    const cases = [
      { key: own, expect: type === 'Registry' || type === 'Verification' ? 'non-null' : OWNED[subgraph].includes(type) ? 'null' : 'any' },
      { key: type === 'Registry' ? foreign : unknownCode(foreign, KEY_LENGTH[type] ?? 29, type), expect: 'null' },
      { key: 'NOT-A-CODE', expect: 'null' },
    ] as const;
    const representations = cases.map((c) => ({ __typename: type, [keyField]: c.key }));
    let answer: Awaited<ReturnType<Send>>;
    try {
      const facts = type === 'Verification' ? (UNKNOWN_UNIT_FACTS[subgraph]?.selection ?? '') : '';
      answer = await send(`query Conformance($r: [_Any!]!) { _entities(representations: $r) { __typename ... on ${type} { ${keyField} ${facts} } } }`, { r: representations });
    } catch (error) {
      problems.push(`${type}: entity lookup failed: ${(error as Error).message}`);
      continue;
    }
    const entities = answer.data?._entities;
    if (!Array.isArray(entities) || entities.length !== cases.length) {
      problems.push(`${type}: _entities must answer ${cases.length} entries for ${cases.length} representations, got ${Array.isArray(entities) ? entities.length : 'none'}`);
      continue;
    }
    cases.forEach((c, i) => {
      const got = entities[i];
      const what = `${type} ${keyField} ${JSON.stringify(c.key)}`;
      if (c.expect === 'null' && got !== null) problems.push(`${what}: expected null (${i === 0 ? 'unknown key' : i === 1 ? 'another country' : 'malformed key'}), got data`);
      if (c.expect === 'non-null' && !got) problems.push(`${what}: expected the entity, got null`);
      if (got && got[keyField] !== c.key) problems.push(`${what}: answer ${i} carries ${keyField} ${JSON.stringify(got[keyField])}: answers out of order?`);
      const owed = type === 'Verification' && i === 0 ? UNKNOWN_UNIT_FACTS[subgraph] : null;
      if (got && owed) {
        for (const [fact, value] of Object.entries(owed.expected)) {
          if (JSON.stringify(got[fact]) !== JSON.stringify(value)) {
            problems.push(`${what} (a well-formed unit code of its country it does not know): expected ${fact} ${JSON.stringify(value)}, got ${JSON.stringify(got[fact] ?? null)}`);
          }
        }
      }
    });
  }
  return problems;
}

const MAX_REPRESENTATIONS = 1000;

/**
 * More than 1,000 representations in one request: one LIMIT_EXCEEDED error (extensions.max 1000) and no
 * data, before any is resolved. A representation with a missing or non-string key: null, not an error.
 */
export async function entityLimitProblems(subgraph: DataSubgraphName, country: string, send: Send): Promise<string[]> {
  const problems: string[] = [];
  const many = Array.from({ length: MAX_REPRESENTATIONS + 1 }, () => ({ __typename: 'Registry', country }));
  let answer: Awaited<ReturnType<Send>>;
  try {
    answer = await send('query ConformanceTooMany($r: [_Any!]!) { _entities(representations: $r) { __typename } }', { r: many });
  } catch (error) {
    return [`_entities with ${many.length} representations: expected one error LIMIT_EXCEEDED, got no JSON answer (${(error as Error).message})`];
  }
  const errors = (answer.errors ?? []) as { extensions?: Record<string, unknown>; message?: unknown }[];
  const entities = answer.data?._entities;
  if (errors.length !== 1 || errors[0]?.extensions?.code !== 'LIMIT_EXCEEDED' || errors[0]?.extensions?.max !== MAX_REPRESENTATIONS || (Array.isArray(entities) && entities.length)) {
    const got = errors.map((e) => `${String(e.extensions?.code ?? 'no extensions.code')}${e.extensions?.max !== undefined ? ` max ${String(e.extensions.max)}` : ''}`).join(', ') || 'no error';
    problems.push(`_entities with ${many.length} Registry representations: expected one error LIMIT_EXCEEDED with extensions.max ${MAX_REPRESENTATIONS} and no data, got ${got}${Array.isArray(entities) ? ` and ${entities.length} entries` : ''}`);
  }
  const type = resolvableEntities(subgraph).find((t) => t !== 'Registry') ?? 'Registry';
  const keyField = type === 'Registry' ? 'country' : 'code';
  const odd = [{ __typename: type }, { __typename: type, [keyField]: 42 }, { __typename: type, [keyField]: null }];
  try {
    const answer = await send(`query ConformanceOddKeys($r: [_Any!]!) { _entities(representations: $r) { __typename } }`, { r: odd });
    const got = answer.data?._entities;
    if (!Array.isArray(got) || got.length !== odd.length || got.some((e: unknown) => e !== null)) {
      const codes = ((answer.errors ?? []) as { extensions?: { code?: unknown } }[]).map((e) => String(e.extensions?.code ?? 'no code'));
      problems.push(`_entities(representations: ${JSON.stringify(odd)}): a missing or non-string key must answer null for each, got ${JSON.stringify(got ?? null)}${codes.length ? ` with errors ${codes.join(', ')}` : ''}`);
    }
  } catch (error) {
    problems.push(`_entities with missing or non-string keys: expected null for each, got no JSON answer (${(error as Error).message})`);
  }
  return problems;
}

/** Entity types with a resolvable @key in the contract SDL of the subgraph. */
export function resolvableEntities(subgraph: DataSubgraphName): string[] {
  return parse(loadSdl(subgraph))
    .definitions.filter((d): d is ObjectTypeDefinitionNode => d.kind === Kind.OBJECT_TYPE_DEFINITION)
    .filter((d) =>
      d.directives?.some(
        (dir) =>
          dir.name.value === 'key' &&
          !dir.arguments?.some((a) => a.name.value === 'resolvable' && a.value.kind === Kind.BOOLEAN && a.value.value === false),
      ),
    )
    .map((d) => d.name.value);
}

function unknownCode(country: string, length: number, type: string): string {
  if (type === 'RecallCampaign') return (country + 'ZZZZZZZZZZ').slice(0, 12) + 'R9999';
  return (country + 'Z'.repeat(length)).slice(0, length);
}
