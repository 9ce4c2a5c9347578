/**
 * The benchmark's queries. `gateway` is what a client sends to any gateway; `direct` is the units
 * subgraph's own part, sent straight to it; `peers: false` where only our gateway can answer (verify and
 * the registry lists are served by its in-process directory subgraph, which no other gateway has).
 */
export interface BenchQuery {
  name: string;
  peers: boolean;
  gateway(i: number): string;
  direct?(i: number): string;
}

const body = (query: string, variables: Record<string, unknown>) => JSON.stringify({ query, variables });
const REGISTRY = '_entities(representations: [{ __typename: "Registry", country: "CN" }]) { ... on Registry';

export function benchQueries(codes: string[], models: string[]): BenchQuery[] {
  const code = (i: number) => codes[(i * 7919) % codes.length]!;
  const slice = (i: number, n: number) => Array.from({ length: n }, (_, k) => codes[(i * n + k * 13) % codes.length]!);
  const model = (i: number) => models[i % models.length]!;
  return [
    {
      name: 'Q1 unit',
      peers: true,
      gateway: (i) => body('query Q1($c: ID!) { unit(code: $c) { code state model { name } enterprise { name } } }', { c: code(i) }),
      direct: (i) => body('query Q1($c: ID!) { unit(code: $c) { code model { code } enterprise { code } } }', { c: code(i) }),
    },
    {
      name: 'Q2 units(100)',
      peers: true,
      gateway: (i) => body('query Q2($c: [ID!]!) { units(codes: $c) { code state model { name } } }', { c: slice(i, 100) }),
      direct: (i) => body('query Q2($c: [ID!]!) { units(codes: $c) { code model { code } } }', { c: slice(i, 100) }),
    },
    {
      name: 'verify',
      peers: false,
      gateway: (i) => body('query V($c: String!) { verify(code: $c) { code verdict reasons { code severity } } }', { c: code(i) }),
    },
    {
      name: 'verifyMany(1000)',
      peers: false,
      gateway: (i) => body('query VM($c: [String!]!) { verifyMany(codes: $c) { code verdict reasons { code } } }', { c: slice(i, 1000) }),
    },
    {
      name: 'provenance (4 subgraphs)',
      peers: true,
      gateway: (i) =>
        body(
          'query P($c: ID!) { unit(code: $c) { code state enterprise { name status } model { name category } recalls { code defect } openRecalls { code } provenance { owners { owner since until } borderCrossings { direction country } repairs { type occurredAt } } } }',
          { c: code(i) },
        ),
    },
    {
      name: 'analyst page (filtered)',
      peers: false,
      gateway: (i) => body('query A($m: ID!) { registry(country: "CN") { units(first: 50, filter: { model: $m }) { edges { node { code state model { name } } } pageInfo { hasNextPage endCursor } } } }', { m: model(i) }),
      direct: (i) => body(`query A($m: ID!) { ${REGISTRY} { units(first: 50, filter: { model: $m }) { edges { node { code } } pageInfo { hasNextPage endCursor } } } } }`, { m: model(i) }),
    },
    {
      name: 'statistics',
      peers: false,
      gateway: () => body('query S { registry(country: "CN") { unitCount unitsByModel { model { name } count } unitsByState { state count } } }', {}),
      direct: () => body(`query S { ${REGISTRY} { unitCount unitsByModel { model { code } count } } } }`, {}),
    },
  ];
}
