/** Example queries shown by `npm start`, on the gateway's page and in the README. */
export function exampleQueries(codes: { unit: string; model: string; enterprise: string }) {
  return [
    {
      title: 'Anonymous: parse a code (no database)',
      query: `{\n  parseCode(code: "${display(codes.unit)}") {\n    valid canonical display country enterprise model serial\n    problems { kind message position }\n  }\n}`,
    },
    {
      title: 'Any role (a token): a unit with its model, enterprise and events',
      query: `{\n  unit(code: "${codes.unit}") {\n    code display serial registeredAt state\n    model { code name category status }\n    enterprise { code name status }\n    events(first: 10) { totalCount edges { node { type occurredAt stateAfter } } }\n  }\n}`,
    },
    {
      title: 'Anonymous: several codes at once (a malformed and a foreign one included)',
      query: `{\n  units(codes: ["${codes.unit}", "${codes.model}99999999999999999", "CN-BAD", "DE${codes.unit.slice(2)}"]) {\n    code state model { name }\n  }\n}`,
    },
    {
      title: 'Anonymous or customs: verify a container of codes',
      query: `{\n  verifyMany(codes: [\n    "${codes.unit.slice(0, 12)}00000000000000002",\n    "${codes.unit.slice(0, 12)}00000000000000007",\n    "${codes.unit.slice(0, 12)}00000000000000111",\n    "CNSZAIW2X10000000000000000002",\n    "CN-BAD"\n  ]) {\n    code verdict checkedAt\n    reasons { code severity message }\n    unit { display model { name } enterprise { name } }\n  }\n}`,
    },
    {
      title: 'Customs, partner, analyst (owners withheld) or authority: provenance of one robot',
      query: `{\n  unit(code: "${codes.unit.slice(0, 12)}00000000000000005") {\n    display state\n    recalls { code defect remedy closedAt }\n    openRecalls { code }\n    provenance {\n      owners { owner since until }\n      borderCrossings { direction country occurredAt }\n      repairs { type occurredAt note }\n      remedies { eventId recall occurredAt }\n    }\n  }\n}`,
    },
    {
      title: 'Analyst (any role): units by state and model, events per month',
      query: `{\n  registry(country: "CN") {\n    unitCount\n    unitsByState { state count }\n    unitsByModel { model { code name } count }\n    eventsPerMonth { month count }\n    unitsInState(state: STOLEN, first: 5) { totalCount edges { node { code } } }\n  }\n}`,
    },
    {
      title: 'Analyst (any role): a registry\'s enterprises and units, paginated',
      query: `{\n  registries { country name home }\n  registry(country: "CN") {\n    name unitCount\n    enterprises(first: 10) { totalCount edges { node { code name status unitCount } } }\n    units(first: 5) { pageInfo { hasNextPage endCursor } edges { node { code state } } }\n  }\n}`,
    },
    {
      title: 'Analyst (any role): a product model and its units',
      query: `{\n  productModel(code: "${codes.model}") {\n    name category unitCount\n    units(first: 5) { totalCount edges { cursor node { code state } } }\n  }\n}`,
    },
  ];
}

function display(code: string): string {
  return `${code.slice(0, 2)}-${code.slice(2, 6)}-${code.slice(6, 12)}-${code.slice(12)}`;
}
