import { Kind, parse, visit, type DocumentNode, type GraphQLFormattedError } from 'graphql';
import { isCanonicalCode, parseCode } from '../../lib/identity-code/identity-code.js';
import type { DataSubgraphName } from '../../lib/schema/contract.js';
import type { RegistryDirectory, RegistryEntry } from '../directory/registry-directory.js';
import {
  RegistryUnavailableError,
  unavailableError,
  unknownCountryError,
  type GatewayResponse,
  type OperationOptions,
  type RegistryClient,
} from './registry-client.js';
import { comparableKey, KEY_ALIAS, matchByKey, MISMATCH_REASON, reportMismatch, TYPE_ALIAS } from './key-matching.js';
import { keyFieldOf, withEntityKeys } from './key-selection.js';

type Representation = Record<string, unknown>;

/**
 * Entities whose absence is an answer, not an error: the facts behind a customs verdict. When their
 * registry is unknown or down, or the code is malformed, they come back with every requested field
 * null and no error, and the verdict says UNKNOWN or REFUSE with the reason (verify never throws).
 */
const SOFT_TYPES = new Set(['Verification']);

/** Every entity key starts with the country segment: `code` for units, models, enterprises; `country` for Registry. */
export function countryOfRepresentation(representation: Representation): string | null {
  const key = typeof representation.code === 'string' ? representation.code : representation.country;
  return typeof key === 'string' && key.length >= 2 ? key.slice(0, 2) : null;
}

/**
 * Splits an `_entities` fetch by country, sends each part to the registry that owns it, and puts the
 * answers back in the original order. Identical representations are fetched once. A country with no
 * registry, or a registry that fails, costs only its own items (null plus an error at their index).
 * Every fetch asks each entity for its key, and an answer is placed by that key, never by position
 * alone: an entry that is missing, extra or about another key leaves its item REGISTRY_UNAVAILABLE.
 */
export async function routeEntities(
  subgraph: DataSubgraphName,
  options: OperationOptions,
  representations: Representation[],
  directory: RegistryDirectory,
  client: RegistryClient,
): Promise<GatewayResponse> {
  const entities: unknown[] = new Array(representations.length).fill(null);
  const errors: GraphQLFormattedError[] = [];
  const firstIndex = new Map<string, number>();
  const duplicates: [index: number, of: number][] = [];
  const parts = new Map<RegistryEntry, { indices: number[]; country: string }>();

  const soft = new Set<number>();
  representations.forEach((representation, index) => {
    if (SOFT_TYPES.has(representation.__typename as string)) {
      soft.add(index);
      // A malformed code has no registry to ask. (Codes arrive canonical: the full parse is the rare path.)
      if (!isCanonicalCode(representation.code) && !parseCode(String(representation.code ?? '')).valid) return;
    }
    const key = representationKey(representation);
    const seen = firstIndex.get(key);
    if (seen !== undefined) return void duplicates.push([index, seen]);
    firstIndex.set(key, index);
    const country = countryOfRepresentation(representation);
    // A key without a readable country is the home registry's to judge (it answers null).
    const registry = country === null ? directory.home : directory.registryFor(country);
    if (!registry) return void errors.push(unknownCountryError(country!, ['_entities', index]));
    const part = parts.get(registry) ?? { indices: [], country: country ?? directory.home.countries[0]! };
    part.indices.push(index);
    parts.set(registry, part);
  });

  await Promise.all(
    [...parts].map(async ([registry, { indices, country }]) => {
      const sent = indices.map((i) => representations[i]!);
      const variables = { ...options.request.variables, representations: sent };
      const keyed = withEntityKeys(options.request.query!, options.document, sent.map((r) => String(r.__typename)));
      let response: GatewayResponse;
      try {
        response = await client.send(registry, subgraph, { ...options, request: { ...options.request, query: keyed.query, variables }, document: keyed.document });
      } catch (error) {
        if (!(error instanceof RegistryUnavailableError)) throw error;
        for (const i of indices) errors.push(unavailableError(error, countryOf(representations[i]!, country), ['_entities', i]));
        return;
      }
      const received = (response.data as { _entities?: unknown } | null | undefined)?._entities;
      if (received === undefined && response.errors?.length) {
        // The registry refused the whole fetch and said why (a bad variable, say): its items stay null.
        errors.push(...response.errors);
        return;
      }
      const match = Array.isArray(received)
        ? matchByKey(sent.map(askedKey), received, answeredKey)
        : { values: [], untrusted: indices.map((_, j) => j), placeOf: [], problem: 'answered no entity list' };
      indices.forEach((original, j) => (entities[original] = match.values[j] ?? null));
      reportMismatch(options, registry, subgraph, [match]);
      if (match.untrusted.length) {
        const mismatch = new RegistryUnavailableError(registry, MISMATCH_REASON);
        for (const j of match.untrusted) errors.push(unavailableError(mismatch, countryOf(sent[j]!, country), ['_entities', indices[j]!]));
      }
      for (const error of response.errors ?? []) {
        const remapped = remapEntityPath(error, indices, match.placeOf);
        if (remapped) errors.push(remapped);
      }
    }),
  );

  if (soft.size) {
    const nulls = nullFields(options.document ?? parse(options.request.query!));
    for (const index of soft) {
      const typename = representations[index]!.__typename as string;
      if (entities[index] === null) entities[index] = { __typename: typename, ...nulls.get(typename) };
    }
    const kept = errors.filter((e) => !(e.path?.[0] === '_entities' && soft.has(e.path[1] as number)));
    errors.splice(0, errors.length, ...kept);
  }

  for (const [index, of] of duplicates) {
    // A copy, not a shared object: the gateway merges later fetches into each entity in place.
    entities[index] = entities[of] === null ? null : structuredClone(entities[of]);
    for (const error of errors.filter((e) => e.path?.[0] === '_entities' && e.path[1] === of)) {
      errors.push({ ...error, path: ['_entities', index, ...error.path!.slice(2)] });
    }
  }
  return { data: { _entities: entities }, ...(errors.length ? { errors } : {}) };
}

/** Identity of a representation for "fetched once": a key-only one (the usual case) without JSON.stringify. */
function representationKey(representation: Representation): string {
  const keys = Object.keys(representation);
  if (keys.length === 2 && typeof representation.__typename === 'string') {
    const field = keys[0] === '__typename' ? keys[1]! : keys[0]!;
    const value = representation[field];
    if (typeof value === 'string') return `${representation.__typename}\u0000${field}\u0000${value}`;
  }
  return JSON.stringify(representation);
}

/** Per fetch document (the gateway reuses its plan's documents): computed once. */
const nullFieldsOf = new WeakMap<DocumentNode, Map<string, Record<string, null>>>();

/** For each type in an `_entities` fetch, its top-level requested fields set to null. */
function nullFields(document: DocumentNode): Map<string, Record<string, null>> {
  const known = nullFieldsOf.get(document);
  if (known) return known;
  const byType = new Map<string, Record<string, null>>();
  nullFieldsOf.set(document, byType);
  visit(document, {
    InlineFragment(fragment) {
      if (!fragment.typeCondition) return;
      const fields = byType.get(fragment.typeCondition.name.value) ?? {};
      for (const selection of fragment.selectionSet.selections) {
        if (selection.kind === Kind.FIELD && selection.name.value !== '__typename') fields[selection.alias?.value ?? selection.name.value] = null;
      }
      byType.set(fragment.typeCondition.name.value, fields);
      return false;
    },
  });
  return byType;
}

/** An error about answer position j belongs to the item placed there; one placed nowhere is dropped. */
function remapEntityPath(error: GraphQLFormattedError, indices: number[], placeOf: (number | undefined)[]): GraphQLFormattedError | null {
  const path = error.path;
  if (!path || path[0] !== '_entities' || typeof path[1] !== 'number') return error;
  const place = placeOf[path[1]];
  return place === undefined ? null : { ...error, path: ['_entities', indices[place]!, ...path.slice(2)] };
}

/** What a representation asks for: its type and key, as the registry writes them back. */
function askedKey(representation: Representation): string | null {
  const typename = representation.__typename;
  const key = comparableKey(representation[keyFieldOf(String(typename))]);
  return typeof typename === 'string' && key !== null ? `${typename} ${key}` : null;
}

function answeredKey(entity: Record<string, unknown>): string | null {
  const typename = entity[TYPE_ALIAS];
  const key = comparableKey(entity[KEY_ALIAS]);
  return typeof typename === 'string' && key !== null ? `${typename} ${key}` : null;
}

function countryOf(representation: Representation, fallback: string): string {
  return countryOfRepresentation(representation) ?? fallback;
}

