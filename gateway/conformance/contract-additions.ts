import { Kind, parse, type DefinitionNode, type DocumentNode, type GraphQLSchema } from 'graphql';
import { loadSdl, type DataSubgraphName } from '../../lib/schema/contract.js';

/**
 * The partner contract is versioned by additions only. A node of an earlier version still conforms and
 * federates: what a later version added is optional for it, checked only when it is there (same types as
 * the contract), and the gateway leaves it out of what it asks such a node (the field then reads null,
 * which the SDL documents). docs/partner-contract.md lists the versions. A node declares the version it
 * implements in its SDL (contract-version.ts); one that declares a version must serve its additions.
 */
export const CONTRACT_VERSION = '1.1';

export interface ContractAddition {
  version: string;
  /** `Type.field` coordinates, nullable in the contract so that a node without them degrades to null. */
  fields: readonly string[];
  /** Types only those fields use. */
  types: readonly string[];
}

export const CONTRACT_ADDITIONS: Readonly<Record<DataSubgraphName, readonly ContractAddition[]>> = {
  enterprises: [
    { version: '1.1', fields: ['Enterprise.statusHistory'], types: ['EnterpriseStatusChange', 'EnterpriseStatusChangeConnection', 'EnterpriseStatusChangeEdge'] },
  ],
  'product-models': [
    {
      version: '1.1',
      fields: ['ProductModel.statusHistory'],
      types: ['ProductModelStatusChange', 'ProductModelStatusChangeConnection', 'ProductModelStatusChangeEdge'],
    },
  ],
  units: [],
  lifecycle: [
    {
      version: '1.1',
      fields: ['Provenance.pagedOwners', 'Provenance.pagedBorderCrossings', 'Provenance.pagedRepairs', 'Provenance.pagedRemedies'],
      types: ['OwnershipConnection', 'OwnershipEdge', 'BorderCrossingConnection', 'BorderCrossingEdge'],
    },
  ],
};

/** Every optional field coordinate of a subgraph. */
export function optionalFields(subgraph: DataSubgraphName): string[] {
  return CONTRACT_ADDITIONS[subgraph].flatMap((a) => a.fields);
}

/** The optional fields (and their types) a partner's schema does not have. */
export function missingAdditions(subgraph: DataSubgraphName, theirs: GraphQLSchema): { fields: string[]; types: string[] } {
  const fields = optionalFields(subgraph).filter((coordinate) => {
    const [type, field] = coordinate.split('.') as [string, string];
    const named = theirs.getType(type);
    return !named || !('getFields' in named) || !(field in named.getFields());
  });
  const types = CONTRACT_ADDITIONS[subgraph].flatMap((a) => a.types).filter((type) => !theirs.getType(type));
  return { fields, types };
}

/** The contract SDL without the given optional fields and types: what a node lacking them must still meet. */
export function contractWithout(subgraph: DataSubgraphName, missing: { fields: readonly string[]; types: readonly string[] }): DocumentNode {
  const document = parse(loadSdl(subgraph));
  const fields = new Set(missing.fields);
  const types = new Set(missing.types);
  const definitions: DefinitionNode[] = [];
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) {
      definitions.push(definition);
      continue;
    }
    if (types.has(definition.name.value)) continue;
    const kept = definition.fields?.filter((f) => !fields.has(`${definition.name.value}.${f.name.value}`));
    definitions.push({ ...definition, fields: kept });
  }
  return { ...document, definitions };
}
