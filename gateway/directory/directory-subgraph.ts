import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '../../lib/subgraph/subgraph-module.js';
import { parse, type GraphQLSchema } from 'graphql';
import { registryError } from '../../lib/errors.js';
import { parseCode, type ParsedCode } from '../../lib/identity-code/identity-code.js';
import { loadSdl } from '../../lib/schema/contract.js';
import { DateTime } from '../../lib/subgraph/scalars.js';
import { judge, type VerificationFacts } from '../verdict/verdict.js';
import { countVerdict } from '../../lib/metrics/registry-metrics.js';
import type { RegistryDirectory, RegistryEntry } from './registry-directory.js';

interface RegistryView {
  country: string;
  entry: RegistryEntry;
}

type VerificationSource = VerificationFacts & { code: string; checkedAt?: Date };
type JudgedVerification = VerificationSource & { judgement?: ReturnType<typeof judge> };

/** verifyMany takes a container's worth of codes at most. */
export const MAX_VERIFY_CODES = 1_000;

/**
 * The subgraph the gateway serves itself: the directory (registries, registry), parseCode, and the
 * customs verdict, which it computes from facts the owning registry's subgraphs report (@requires).
 */
export function directorySubgraphSchema(directory: () => RegistryDirectory, reachable: (entry: RegistryEntry) => boolean): GraphQLSchema {
  const view = (country: string): RegistryView | null => {
    const entry = directory().registryFor(country);
    return entry ? { country, entry } : null;
  };
  const parseAgainstDirectory = (code: string): ParsedCode =>
    parseCode(code, { isKnownCountry: (c) => directory().registryFor(c) !== undefined });
  const startVerification = (input: string): VerificationSource => ({
    code: parseCode(input).canonical ?? input,
    checkedAt: new Date(),
  });
  const resolvers: GraphQLResolverMap<unknown> = {
    DateTime,
    Query: {
      parseCode(_: unknown, { code }: { code: string }) {
        return { ...parseAgainstDirectory(code), input: code, checkCharacter: 'NOT_DEFINED' };
      },
      registry: (_: unknown, { country }: { country: string }) => view(country.trim().toUpperCase()),
      registries: () => directory().registries.flatMap((entry) => entry.countries.map((country) => ({ country, entry }))),
      verify: (_: unknown, { code }: { code: string }) => startVerification(code),
      verifyMany(_: unknown, { codes }: { codes: string[] }) {
        if (codes.length > MAX_VERIFY_CODES) {
          throw registryError('LIMIT_EXCEEDED', `verifyMany takes at most ${MAX_VERIFY_CODES} codes, got ${codes.length}`, { max: MAX_VERIFY_CODES });
        }
        return codes.map(startVerification);
      },
    },
    Registry: {
      __resolveReference: (ref: { country: string }) => view(ref.country),
      name: (r: RegistryView) => r.entry.name,
      home: (r: RegistryView) => r.entry.home,
      reachable: (r: RegistryView) => reachable(r.entry),
    },
    Verification: {
      // Called with the facts gathered from the owning registry (the fields named in @requires);
      // the verdict is judged once here and read by both fields.
      __resolveReference: (ref: VerificationSource) => ({ ...ref, judgement: countVerdict(judgement(ref)) }),
      verdict: (v: JudgedVerification) => (v.judgement ?? judgement(v)).verdict,
      reasons: (v: JudgedVerification) => (v.judgement ?? judgement(v)).reasons,
      unit: (v: VerificationSource) => (v.registration?.registered ? { code: v.code } : null),
      checkedAt: (v: VerificationSource) => v.checkedAt ?? new Date(),
    },
  };
  const judgement = (v: VerificationSource) => {
    const parsed = parseAgainstDirectory(v.code);
    const registry = parsed.canonical ? directory().registryFor(parsed.canonical.slice(0, 2)) : undefined;
    return judge(parsed, v, registry?.name ?? null);
  };
  return buildSubgraphSchema({ typeDefs: parse(loadSdl('directory')), resolvers });
}
