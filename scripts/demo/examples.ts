/** Example queries shown by `npm start`, on the gateway's page and in the README. */
export function exampleQueries(codes: { unit: string; model: string; enterprise: string }) {
  return [
    {
      title: 'Parse a code (no database)',
      query: `{\n  parseCode(code: "${display(codes.unit)}") {\n    valid canonical display country enterprise model serial\n    problems { kind message position }\n  }\n}`,
    },
    {
      title: 'A unit with its model, enterprise and events',
      query: `{\n  unit(code: "${codes.unit}") {\n    code display serial registeredAt state\n    model { code name category status }\n    enterprise { code name status }\n    events(first: 10) { totalCount edges { node { type occurredAt stateAfter } } }\n  }\n}`,
    },
    {
      title: 'Several codes at once (a malformed and a foreign one included)',
      query: `{\n  units(codes: ["${codes.unit}", "${codes.model}99999999999999999", "CN-BAD", "DE${codes.unit.slice(2)}"]) {\n    code state model { name }\n  }\n}`,
    },
    {
      title: 'A registry: enterprises and units, paginated',
      query: `{\n  registries { country name home }\n  registry(country: "CN") {\n    name unitCount\n    enterprises(first: 10) { totalCount edges { node { code name status unitCount } } }\n    units(first: 5) { pageInfo { hasNextPage endCursor } edges { node { code state } } }\n  }\n}`,
    },
    {
      title: 'A product model and its units',
      query: `{\n  productModel(code: "${codes.model}") {\n    name category unitCount\n    units(first: 5) { totalCount edges { cursor node { code state } } }\n  }\n}`,
    },
  ];
}

function display(code: string): string {
  return `${code.slice(0, 2)}-${code.slice(2, 6)}-${code.slice(6, 12)}-${code.slice(12)}`;
}
