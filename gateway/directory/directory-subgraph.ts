import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse, type GraphQLSchema } from 'graphql';
import { parseCode } from '../../lib/identity-code/identity-code.js';
import { loadSdl } from '../../lib/schema/contract.js';
import type { RegistryDirectory, RegistryEntry } from './registry-directory.js';

interface RegistryView {
  country: string;
  entry: RegistryEntry;
}

/**
 * The subgraph the gateway serves itself: the directory (registries, registry) and parseCode, which
 * needs no database, only the directory's list of known countries.
 */
export function directorySubgraphSchema(directory: () => RegistryDirectory): GraphQLSchema {
  const view = (country: string): RegistryView | null => {
    const entry = directory().registryFor(country);
    return entry ? { country, entry } : null;
  };
  return buildSubgraphSchema({
    typeDefs: parse(loadSdl('directory')),
    resolvers: {
      Query: {
        parseCode(_: unknown, { code }: { code: string }) {
          const parsed = parseCode(code, { isKnownCountry: (c) => directory().registryFor(c) !== undefined });
          return { ...parsed, input: code, checkCharacter: 'NOT_DEFINED' };
        },
        registry: (_: unknown, { country }: { country: string }) => view(country.trim().toUpperCase()),
        registries: () => directory().registries.flatMap((entry) => entry.countries.map((country) => ({ country, entry }))),
      },
      Registry: {
        __resolveReference: (ref: { country: string }) => view(ref.country),
        name: (r: RegistryView) => r.entry.name,
        home: (r: RegistryView) => r.entry.home,
      },
    },
  });
}
