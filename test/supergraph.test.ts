import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { composeContract, composeSupergraph, contractSubgraphs, CompositionError } from '../lib/schema/compose.js';
import { sdlPath } from '../lib/schema/contract.js';

describe('the checked-in supergraph', () => {
  it('is what the subgraph SDL files compose to (run `npm run compose` after editing schema/)', () => {
    expect(readFileSync(sdlPath('supergraph'), 'utf8')).toBe(composeContract());
  });

  it('exposes the public contract names', () => {
    const sdl = composeContract();
    for (const name of ['parseCode(code: String!): CodeParse!', 'unit(code: ID!): Unit', 'units(codes: [ID!]!): [Unit]!', 'enterprise(code: ID!): Enterprise',
      'productModel(code: ID!): ProductModel', 'registry(country: ID!): Registry', 'registries: [Registry!]!',
      'registerEnterprise(input: RegisterEnterpriseInput!): Enterprise!', 'registerProductModel(input: RegisterProductModelInput!): ProductModel!',
      'registerUnits(input: RegisterUnitsInput!): [Unit!]!', 'recordEvents(events: [LifecycleEventInput!]!): [LifecycleEvent!]!']) {
      expect(sdl).toContain(name);
    }
  });

  it('reports composition errors by name when a subgraph breaks the contract', () => {
    const broken = contractSubgraphs().map((s) => (s.name === 'units' ? { ...s, typeDefs: s.typeDefs.replace('serial: String!', 'serial: Int!') } : s));
    // Still composes (serial is only in units); a clash with another subgraph's type does not:
    const clash = contractSubgraphs().map((s) => (s.name === 'units' ? { ...s, typeDefs: s.typeDefs + '\nextend type Query { parseCode(code: String!): Int }' } : s));
    expect(() => composeSupergraph(broken)).not.toThrow();
    expect(() => composeSupergraph(clash)).toThrow(CompositionError);
  });
});
