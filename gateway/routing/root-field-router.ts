import {
  Kind,
  parse,
  print,
  valueFromASTUntyped,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type VariableDefinitionNode,
} from 'graphql';
import { parseCode, type CodeKind } from '../../lib/identity-code/identity-code.js';
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
import { comparableKey, KEY_ALIAS, matchByKey, MISMATCH_REASON, reportMismatch, type KeyMatch } from './key-matching.js';
import { printedOnce, withRootKey } from './key-selection.js';

/**
 * Root fields that take codes, and the argument that decides where they run. A unit that is not
 * registered must come back as null, which only the registry that owns the code can say, so the root
 * fetch itself goes to that registry (a mixed list is split per country and put back in order).
 */
export const ROUTED_ROOT_FIELDS: Record<string, { argument: string; list: boolean; kind: CodeKind }> = {
  unit: { argument: 'code', list: false, kind: 'unit' },
  units: { argument: 'codes', list: true, kind: 'unit' },
  enterprise: { argument: 'code', list: false, kind: 'enterprise' },
  productModel: { argument: 'code', list: false, kind: 'productModel' },
};

/** Lists longer than this are sent whole to the home registry, which refuses them with LIMIT_EXCEEDED. */
const MAX_ROUTED_LIST = 1_000;

type Target = { registry: RegistryEntry } | { unknown: string };

interface FieldRoute {
  /** The field as sent: a routed field also selects its `code` under the gateway's alias. */
  field: FieldNode;
  key: string;
  /** Whether its answer is checked against the canonical codes asked (a routed field, not an oversized list). */
  checked: boolean;
  /** The canonical code of each value (null for a malformed one, which only a null may answer). */
  expected: (string | null)[];
  /** One target for a single code (or an unrouted field); one per item for a list of codes. */
  targets: Target[];
  list: boolean;
  values: unknown[];
}

interface Part {
  registry: RegistryEntry;
  fields: { route: FieldRoute; items: number[] }[];
}

export async function routeRootFields(
  subgraph: DataSubgraphName,
  options: OperationOptions,
  directory: RegistryDirectory,
  client: RegistryClient,
): Promise<GatewayResponse> {
  // The gateway hands over the fetch's parsed document; parse only when it does not.
  const document = options.document ?? parse(options.request.query!);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const variables = options.request.variables ?? {};
  const home = { registry: directory.home };
  if (!operation || operation.operation !== 'query' || operation.selectionSet.selections.some((s) => s.kind !== Kind.FIELD)) {
    // Writes (and anything we cannot split) go home, whole.
    return sendWhole(directory.home, subgraph, options, client);
  }

  const routes = (operation.selectionSet.selections as FieldNode[]).map((field) => routeField(field, variables, directory, home));
  const registries = new Set(routes.flatMap((r) => r.targets.map((t) => ('registry' in t ? t.registry : null))));
  if (registries.size === 1 && !registries.has(null)) {
    // The common case: everything belongs to one registry, one fetch (with the keys added) answers it.
    const registry = [...registries][0]!;
    const keyed = printedOnce(options.request.query!, () => keyedDocument(document, operation, routes));
    try {
      const response = await client.send(registry, subgraph, { ...options, request: { ...options.request, query: keyed.query }, document: keyed.document });
      if (!response.data) return response;
      const data: Record<string, unknown> = {};
      const errors: GraphQLFormattedError[] = [];
      const whole: Part = { registry, fields: routes.map((route) => ({ route, items: route.values.map((_, i) => i) })) };
      placeAnswer(whole, response, data, errors, options, subgraph);
      return { data, ...(errors.length ? { errors } : {}) };
    } catch (error) {
      if (!(error instanceof RegistryUnavailableError)) throw error;
      // Fall through: the split path below answers each field (or item) with its error.
    }
  }

  const data: Record<string, unknown> = {};
  const errors: GraphQLFormattedError[] = [];
  const parts = new Map<RegistryEntry, Part>();
  for (const route of routes) {
    data[route.key] = route.list ? new Array(route.values.length).fill(null) : null;
    route.targets.forEach((target, item) => {
      if ('unknown' in target) {
        errors.push(unknownCountryError(target.unknown, route.list ? [route.key, item] : [route.key]));
        return;
      }
      const part = parts.get(target.registry) ?? { registry: target.registry, fields: [] };
      parts.set(target.registry, part);
      let entry = part.fields.find((f) => f.route === route);
      if (!entry) part.fields.push((entry = { route, items: [] }));
      entry.items.push(item);
    });
  }

  await Promise.all(
    [...parts.values()].map(async (part) => {
      const request = subRequest(document, operation, part, variables);
      let response: GatewayResponse;
      try {
        response = await client.send(part.registry, subgraph, { ...options, request: { ...options.request, ...request }, document: undefined });
      } catch (error) {
        if (!(error instanceof RegistryUnavailableError)) throw error;
        const country = part.registry.countries[0]!;
        for (const { route, items } of part.fields) {
          if (!route.list) errors.push(unavailableError(error, country, [route.key]));
          else for (const item of items) errors.push(unavailableError(error, countryOfValue(route.values[item]) ?? country, [route.key, item]));
        }
        return;
      }
      placeAnswer(part, response, data, errors, options, subgraph);
    }),
  );
  return { data, ...(errors.length ? { errors } : {}) };
}

/**
 * Puts a registry's answer to a part into `data`: each routed field's object (or each list item) must
 * carry the canonical code asked, else it is null with REGISTRY_UNAVAILABLE. A list answered in another
 * order is put back by code (see matchByKey); the registry's own errors follow their items.
 */
function placeAnswer(part: Part, response: GatewayResponse, data: Record<string, unknown>, errors: GraphQLFormattedError[], options: OperationOptions, subgraph: DataSubgraphName) {
  const received = (response.data ?? {}) as Record<string, unknown>;
  const matches = new Map<FieldRoute, KeyMatch>();
  let mismatch: RegistryUnavailableError | undefined; // made only when needed: an Error captures a stack
  for (const { route, items } of part.fields) {
    const value = received[route.key];
    if (!route.checked) {
      data[route.key] = stripRootKey(value ?? null);
      continue;
    }
    if (route.list && (value === null || value === undefined)) {
      data[route.key] ??= null; // refused whole, with its error
      continue;
    }
    if (route.list && !Array.isArray(data[route.key])) data[route.key] = new Array(route.values.length).fill(null);
    const answer = route.list ? value : [value ?? null];
    const match = Array.isArray(answer)
      ? matchByKey(items.map((i) => route.expected[i]!), answer, (entry) => comparableKey(entry[KEY_ALIAS]))
      : { values: [], untrusted: items.map((_, j) => j), placeOf: [], problem: 'answered no list' };
    matches.set(route, match);
    if (!route.list) data[route.key] = match.values[0] ?? null;
    else items.forEach((item, j) => ((data[route.key] as unknown[])[item] = match.values[j] ?? null));
    for (const j of match.untrusted) {
      const country = countryOfValue(route.values[items[j]!]) ?? part.registry.countries[0]!;
      mismatch ??= new RegistryUnavailableError(part.registry, MISMATCH_REASON);
      errors.push(unavailableError(mismatch, country, route.list ? [route.key, items[j]!] : [route.key]));
    }
  }
  reportMismatch(options, part.registry, subgraph, [...matches.values()]);
  for (const error of response.errors ?? []) {
    const remapped = remapRootPath(error, part, matches);
    if (remapped) errors.push(remapped);
  }
}

async function sendWhole(registry: RegistryEntry, subgraph: DataSubgraphName, options: OperationOptions, client: RegistryClient): Promise<GatewayResponse> {
  try {
    return await client.send(registry, subgraph, options);
  } catch (error) {
    if (!(error instanceof RegistryUnavailableError)) throw error;
    return { errors: [{ message: `registry "${registry.name}" is unavailable (${error.reason}); nothing was written`, extensions: { code: 'REGISTRY_UNAVAILABLE', country: registry.countries[0] } }] };
  }
}

function routeField(
  field: FieldNode,
  variables: Record<string, unknown>,
  directory: RegistryDirectory,
  home: Target,
): FieldRoute {
  const key = field.alias?.value ?? field.name.value;
  const spec = ROUTED_ROOT_FIELDS[field.name.value];
  const argument = spec && field.arguments?.find((a) => a.name.value === spec.argument);
  if (!spec || !argument) return { field, key, targets: [home], list: false, values: [], checked: false, expected: [] };
  // Literals are inlined in the subgraph query; variables come with the request.
  const value = valueFromASTUntyped(argument.value, variables);
  const values = spec.list ? (Array.isArray(value) ? value : [value]) : [value];
  // Keyed whatever the values: the rewritten query is then the same for every request with this text.
  const keyed = withRootKey(field);
  if (spec.list && values.length > MAX_ROUTED_LIST) return { field: keyed, key, targets: [home], list: false, values: [], checked: false, expected: [] };
  const expected: (string | null)[] = [];
  const targets = values.map((v): Target => {
    const parsed = typeof v === 'string' ? parseCode(v, { kind: spec.kind }) : null;
    expected.push(parsed?.valid && parsed.canonical ? parsed.canonical : null);
    // A malformed code goes home, where it gets its MALFORMED_CODE error with the problems.
    if (!parsed?.valid || !parsed.canonical) return home;
    const country = parsed.canonical.slice(0, 2);
    const registry = directory.registryFor(country);
    return registry ? { registry } : { unknown: country };
  });
  return { field: keyed, key, targets, list: spec.list, values, checked: true, expected };
}

/** The whole operation with each routed field keyed (one registry answers it all). */
function keyedDocument(document: DocumentNode, operation: OperationDefinitionNode, routes: FieldRoute[]): DocumentNode {
  const keyedOperation = { ...operation, selectionSet: { ...operation.selectionSet, selections: routes.map((r) => r.field) } };
  return { ...document, definitions: document.definitions.map((d) => (d === operation ? keyedOperation : d)) };
}

/** A query holding only this part's fields; list arguments replaced by the part's own codes. */
function subRequest(document: DocumentNode, operation: OperationDefinitionNode, part: Part, variables: Record<string, unknown>) {
  const partVariables: Record<string, unknown> = {};
  const extraDefinitions: VariableDefinitionNode[] = [];
  const selections = part.fields.map(({ route, items }, n): FieldNode => {
    if (!route.list) return route.field;
    const name = `__routed${n}`;
    partVariables[name] = items.map((i) => route.values[i]);
    extraDefinitions.push({
      kind: Kind.VARIABLE_DEFINITION,
      variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: name } },
      type: listOfIds(),
    });
    const spec = ROUTED_ROOT_FIELDS[route.field.name.value]!;
    return {
      ...route.field,
      arguments: route.field.arguments!.map((a) =>
        a.name.value === spec.argument ? { ...a, value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: name } } } : a,
      ),
    };
  });
  const selectionSet: SelectionSetNode = { kind: Kind.SELECTION_SET, selections };
  const fragments = usedFragments(document, selectionSet);
  const used = usedVariables([selectionSet, ...fragments.map((f) => f.selectionSet)]);
  for (const name of used) if (name in variables) partVariables[name] = variables[name];
  const sub: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [
      {
        ...operation,
        variableDefinitions: [
          ...(operation.variableDefinitions ?? []).filter((d) => used.has(d.variable.name.value)),
          ...extraDefinitions,
        ],
        selectionSet,
      },
      ...fragments,
    ],
  };
  return { query: print(sub), variables: partVariables };
}

function listOfIds() {
  return {
    kind: Kind.NON_NULL_TYPE,
    type: {
      kind: Kind.LIST_TYPE,
      type: { kind: Kind.NON_NULL_TYPE, type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: 'ID' } } },
    },
  } as VariableDefinitionNode['type'];
}

function usedFragments(document: DocumentNode, selectionSet: SelectionSetNode): FragmentDefinitionNode[] {
  const all = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );
  const used = new Map<string, FragmentDefinitionNode>();
  const pending = [selectionSet];
  while (pending.length) {
    visit(pending.pop()!, {
      FragmentSpread(node) {
        const fragment = all.get(node.name.value);
        if (fragment && !used.has(node.name.value)) {
          used.set(node.name.value, fragment);
          pending.push(fragment.selectionSet);
        }
      },
    });
  }
  return [...used.values()];
}

function usedVariables(nodes: SelectionSetNode[]): Set<string> {
  const names = new Set<string>();
  for (const node of nodes) visit(node, { Variable: (v) => void names.add(v.name.value) });
  return names;
}

/** A list item's error follows the item it was placed at; one about an entry placed nowhere is dropped. */
function remapRootPath(error: GraphQLFormattedError, part: Part, matches: Map<FieldRoute, KeyMatch>): GraphQLFormattedError | null {
  const path = error.path;
  if (!path) return error;
  const field = part.fields.find((f) => f.route.key === path[0]);
  if (!field?.route.list || typeof path[1] !== 'number') return error;
  const place = matches.get(field.route)?.placeOf[path[1]];
  const original = place === undefined ? undefined : field.items[place];
  return original === undefined ? null : { ...error, path: [path[0]!, original, ...path.slice(2)] };
}

function stripRootKey(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !(KEY_ALIAS in value)) return value;
  const { [KEY_ALIAS]: _key, ...rest } = value as Record<string, unknown>;
  return rest;
}

function countryOfValue(value: unknown): string | null {
  return typeof value === 'string' && value.length >= 2 ? value.trim().slice(0, 2).toUpperCase() : null;
}
