/**
 * How many items each list-returning field of the contract (schema/*.graphql) can produce, by field
 * coordinate: the cost estimate multiplies these through the nesting. Fields not named here produce one
 * item per parent, or a few per parent that are bounded by the data (a unit's recalls, a verdict's reasons).
 * test/limits.test.ts checks this table against the supergraph: every `first` argument and every list
 * argument of a root field must be here, with the schema's own default.
 */
export type ListSize =
  /** A connection page: `first`, or the schema's default when absent. */
  | { kind: 'page'; default: number }
  /** The length of a list argument (`codes`, `events`); `codes` says each item names a code. */
  | { kind: 'list'; argument: string; codes: boolean }
  /** `registerUnits(input: { count | serials })`: the units it creates (each a new code). */
  | { kind: 'units-to-register' }
  /** One per registry in the directory. */
  | { kind: 'registries' };

export const LIST_SIZES: Readonly<Record<string, ListSize>> = {
  'Query.registries': { kind: 'registries' },
  'Query.verifyMany': { kind: 'list', argument: 'codes', codes: true },
  'Query.units': { kind: 'list', argument: 'codes', codes: true },
  'Mutation.registerUnits': { kind: 'units-to-register' },
  'Mutation.recordEvents': { kind: 'list', argument: 'events', codes: true },
  'Registry.enterprises': { kind: 'page', default: 50 },
  'Registry.productModels': { kind: 'page', default: 50 },
  'Registry.units': { kind: 'page', default: 50 },
  'Registry.unitsInState': { kind: 'page', default: 50 },
  'Registry.events': { kind: 'page', default: 50 },
  'Query.auditLog': { kind: 'page', default: 50 },
  'Enterprise.productModels': { kind: 'page', default: 50 },
  'ProductModel.units': { kind: 'page', default: 50 },
  'Unit.events': { kind: 'page', default: 50 },
  'Enterprise.statusHistory': { kind: 'page', default: 50 },
  'ProductModel.statusHistory': { kind: 'page', default: 50 },
  'Provenance.pagedOwners': { kind: 'page', default: 50 },
  'Provenance.pagedBorderCrossings': { kind: 'page', default: 50 },
  'Provenance.pagedRepairs': { kind: 'page', default: 50 },
  'Provenance.pagedRemedies': { kind: 'page', default: 50 },
  // Push alerts (docs/alerts.md): the delivery log pages by `first`; subscriptions are capped at 50 per
  // country (MAX_SUBSCRIPTIONS_PER_COUNTRY), counted as one page; a replay names its deliveries.
  'Query.alertDeliveries': { kind: 'page', default: 50 },
  'Query.alertSubscriptions': { kind: 'page', default: 50 },
  'Mutation.replayAlertDeliveries': { kind: 'list', argument: 'ids', codes: false },
};

/** Arguments that name one code each (`unit(code:)`, `verify(code:)`...), counted towards the codes limit. */
export const CODE_ARGUMENT = 'code';
