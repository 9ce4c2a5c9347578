import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '../../lib/subgraph/subgraph-module.js';
import { parse, type GraphQLSchema } from 'graphql';
import { registryError } from '../../lib/errors.js';
import { isCanonicalCode, normaliseCode, parseCode, type ParsedCode } from '../../lib/identity-code/identity-code.js';
import { loadSdl } from '../../lib/schema/contract.js';
import { DateTime } from '../../lib/subgraph/scalars.js';
import { judge, type Reason, type VerificationFacts } from '../verdict/verdict.js';
import type { FactSource } from '../verdict/verdict-facts.js';
import { countVerdict } from '../../lib/metrics/registry-metrics.js';
import type { RegistryDirectory, RegistryEntry } from './registry-directory.js';
import type { ReceiptHook } from '../receipts/receipt-hook.js';

interface RegistryView {
  country: string;
  entry: RegistryEntry;
}

/** `input` and `checkedAt` are set by the root field; the facts and the judgement are fetched once, when first read. */
interface VerificationSource {
  code: string;
  input?: string;
  checkedAt?: Date;
  facts?: Promise<VerificationFacts>;
  judgement?: Promise<Judgement>;
}
export type Judgement = ReturnType<typeof judge>;

/** verifyMany takes a container's worth of codes at most. */
export const MAX_VERIFY_CODES = 1_000;

/** A recall campaign code: the 12-character model code, R and 4 digits (product-models issues them). */
const RECALL_CODE = /^[0-9A-Z]{12}R[0-9]{4}$/;

/**
 * The subgraph the gateway serves itself: the directory (registries, registry), parseCode, and the
 * customs verdict, which it computes from facts the owning registry's subgraphs report (`facts`,
 * gathered per request in one batch per subgraph: gateway/verdict/verdict-facts.ts).
 */
export function directorySubgraphSchema(
  directory: () => RegistryDirectory,
  reachable: (entry: RegistryEntry) => boolean,
  facts: FactSource,
  receipts?: ReceiptHook,
): GraphQLSchema {
  const view = (country: string): RegistryView | null => {
    const entry = directory().registryFor(country);
    return entry ? { country, entry } : null;
  };
  const parseAgainstDirectory = (code: string): ParsedCode =>
    parseCode(code, { isKnownCountry: (c) => directory().registryFor(c) !== undefined });
  const startVerification = (input: string, context?: unknown): VerificationSource => {
    // Codes usually arrive canonical: the full parse is the rare path.
    const code = isCanonicalCode(input) ? input : (parseCode(input).canonical ?? input);
    receipts?.noteInput(context, code, input);
    return { code, input, checkedAt: new Date() };
  };
  /** The registry that owns a well-formed code's country segment; null for a malformed or unserved code. */
  const ownerOf = (code: string): RegistryView | null => (isCanonicalCode(code) ? view(code.slice(0, 2)) : null);
  const resolvers: GraphQLResolverMap<unknown> = {
    DateTime,
    Query: {
      parseCode(_: unknown, { code }: { code: string }) {
        return { ...parseAgainstDirectory(code), input: code, checkCharacter: 'NOT_DEFINED' };
      },
      registry: (_: unknown, { country }: { country: string }) => view(country.trim().toUpperCase()),
      registries: () => directory().registries.flatMap((entry) => entry.countries.map((country) => ({ country, entry }))),
      verify: (_: unknown, { code }: { code: string }, context: unknown) => startVerification(code, context),
      verifyMany(_: unknown, { codes }: { codes: string[] }, context: unknown) {
        if (codes.length > MAX_VERIFY_CODES) {
          throw registryError('LIMIT_EXCEEDED', `verifyMany takes at most ${MAX_VERIFY_CODES} codes, got ${codes.length}`, { max: MAX_VERIFY_CODES });
        }
        return codes.map((code) => startVerification(code, context));
      },
      recall(_: unknown, { code }: { code: string }) {
        const canonical = normaliseCode(code);
        if (!RECALL_CODE.test(canonical)) {
          throw registryError(
            'MALFORMED_CODE',
            `malformed recall campaign code ${JSON.stringify(code.slice(0, 64))}: expected the 12-character model code, R and 4 digits (e.g. CNA1B2H10000R0001)`,
            { input: code.slice(0, 64) },
          );
        }
        const country = canonical.slice(0, 2);
        if (!view(country)) throw registryError('UNKNOWN_COUNTRY', `no registry serves country segment "${country}"`, { country });
        // A reference: the campaign itself comes from the owning registry, routed like every entity fetch.
        return { code: canonical };
      },
    },
    Registry: {
      __resolveReference: (ref: { country: string }) => view(ref.country),
      name: (r: RegistryView) => r.entry.name,
      home: (r: RegistryView) => r.entry.home,
      reachable: (r: RegistryView) => reachable(r.entry),
    },
    Verification: {
      __resolveReference: (ref: { code: string }) => ({ code: ref.code }),
      verdict: async (v: VerificationSource, _: unknown, context: unknown) => (await judgementOf(v, context)).verdict,
      reasons: async (v: VerificationSource, _: unknown, context: unknown) => (await judgementOf(v, context)).reasons,
      unit: async (v: VerificationSource, _: unknown, context: unknown) => ((await factsOf(v, context)).registration?.registered ? { code: v.code } : null),
      checkedAt: (v: VerificationSource) => v.checkedAt ?? new Date(),
      // The entity key is the input for a malformed code, so the key itself is the input there.
      input: (v: VerificationSource) => v.input ?? v.code,
      // The key is the canonical code when the input is well-formed, else the input, which then is not canonical.
      canonical: (v: VerificationSource) => (isCanonicalCode(v.code) ? v.code : null),
      answeredBy: (v: VerificationSource) => ownerOf(v.code),
      // A signed receipt of this judgement (gateway/receipts), only when asked for.
      async receipt(v: VerificationSource, _: unknown, context: unknown) {
        if (!receipts) return null;
        const { verdict, reasons } = await judgementOf(v, context);
        const owner = ownerOf(v.code);
        const answeredBy = owner ? { country: owner.country, name: owner.entry.name } : null;
        return receipts.issue({ code: v.code, canonical: isCanonicalCode(v.code) ? v.code : null, verdict, reasons, answeredBy }, context);
      },
    },
    VerificationReason: {
      recalls: (r: Reason) => r.recalls ?? null,
      registry: (r: Reason) => (r.registry ? view(r.registry.country) : null),
      enterprise: (r: Reason) => r.enterprise ?? null,
      model: (r: Reason) => r.model ?? null,
      country: (r: Reason) => r.country ?? null,
    },
    RecallCampaign: {
      __resolveReference: (ref: { code: string; closedAt?: unknown }) => ref,
      status: (c: { closedAt?: unknown }) => (c.closedAt === undefined ? null : c.closedAt === null ? 'OPEN' : 'CLOSED'),
    },
  };
  /** A malformed code, or one of a country no registry serves, has no registry to ask. */
  const factsOf = (v: VerificationSource, context: unknown): Promise<VerificationFacts> => {
    v.facts ??= isCanonicalCode(v.code) && directory().registryFor(v.code.slice(0, 2)) ? facts(v.code, context) : Promise.resolve({});
    return v.facts;
  };
  /** Judged once per verification, whichever of its fields asks first (and counted once). */
  const judgementOf = (v: VerificationSource, context: unknown): Promise<Judgement> =>
    (v.judgement ??= factsOf(v, context).then((known) => {
      const parsed = parseAgainstDirectory(v.code);
      const registry = parsed.canonical ? directory().registryFor(parsed.canonical.slice(0, 2)) : undefined;
      return countVerdict(judge(parsed, known, registry?.name ?? null));
    }));
  return buildSubgraphSchema({ typeDefs: parse(loadSdl('directory')), resolvers });
}
