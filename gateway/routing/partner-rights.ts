import {
  getNamedType,
  isAbstractType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  parse,
  print,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { ACCESS_POLICY, GATEWAY_SUBJECT, mayReadOwner, refusalOf, rightOf, WITHHELD, type Right } from '../../lib/access/access-policy.js';
import type { DataSubgraphName } from '../../lib/schema/contract.js';
import type { Caller, RequestContext } from '../../lib/server/request-context.js';
import { schemaOf, validAfterStripping } from '../conformance/older-partners.js';
import { KEY_ALIAS, TYPE_ALIAS } from './key-matching.js';

/**
 * The rights table (lib/access/access-policy.ts) on data fetched from a partner registry. Our own nodes
 * enforce it themselves from the signed caller claims; a partner gets no claims (docs/partner-contract.md,
 * "Headers and credentials"), so the gateway enforces it on what it asks a partner for and on the answer,
 * and the caller reads exactly what the same query on home data would give:
 *
 * - a field the caller may not read is left out of the fetch (the partner is never asked for it), and the
 *   answer gets the error our subgraph would have raised (refusalOf's message and extensions) at each place
 *   the field would have been, with graphql-js's null-bubbling for a non-null field (the nearest nullable
 *   parent becomes null, as on the home node);
 * - an owner reference (Ownership.owner, LifecycleEvent.owner, LifecycleEvent.recordedBy) reads WITHHELD
 *   unless the caller is the authority or the manufacturer of the unit. For a manufacturer, the fetch also
 *   asks each Unit for its `code` and each event for its `unit { code }` under the gateway's aliases, so the
 *   rule is decided per unit wherever the reference appears (Registry.events across units too).
 *
 * Only the home node is exempt (it enforces for itself: no work on the hot path).
 */

/** Response names the gateway adds to a partner fetch for the owner-reference rule, stripped from the answer. */
const UNIT_CODE_ALIAS = '__rightsCode';
const EVENT_UNIT_ALIAS = '__rightsUnit';

const ONLY_AUTHORITY: Right = { kind: 'roles', roles: ['authority'] };
/** Federation's own types are plumbing, not data (as in applyAccessPolicy). */
const SKIPPED_TYPES = new Set(['_Service', '_Entity', '_Any']);

/** Names of every field that is not public to all: a fetch whose text names none of them is sent as is. */
const GUARDED_NAMES = [
  ...new Set(
    Object.values(ACCESS_POLICY).flatMap((fields) =>
      Object.entries(fields).filter(([name, right]) => name !== '*' && right.kind !== 'public').map(([name]) => name),
    ),
  ),
];

interface Request {
  request: { query?: string; variables?: Record<string, unknown> };
  document?: DocumentNode;
  context?: unknown;
}
interface Answer {
  data?: Record<string, unknown> | null;
  errors?: GraphQLFormattedError[];
}

interface Plan {
  schema: GraphQLSchema;
  operation: OperationDefinitionNode;
  fragments: Map<string, FragmentDefinitionNode>;
  /** What is sent: the fetch without the refused fields (and with the aliases, for a manufacturer). */
  sent: { query: string; document: DocumentNode } | null;
  /** `Type.field` -> the error the caller gets for it. */
  refusals: Map<string, { message: string; extensions: Record<string, unknown> }>;
  /** Whether any selection set holds something to enforce, by selection set (filled lazily). */
  guarded: WeakMap<SelectionSetNode, boolean>;
  /** The compiled steps of each selection set, by the type of the object it applies to (filled lazily). */
  steps: Map<SelectionSetNode, Map<string, Step[]>>;
}

const plans = new Map<string, Plan | null>();
const PLAN_CACHE_SIZE = 1_000;

/**
 * Sends `options` through `send` as the caller's rights allow, and applies them to the answer (in place:
 * the answer is the caller's own object). Call it for every fetch to a non-home registry.
 */
export async function sendWithPartnerRights<O extends Request, A extends Answer>(
  subgraph: DataSubgraphName,
  options: O,
  send: (options: O) => Promise<A>,
): Promise<A> {
  const query = options.request.query;
  // The common case: the fetch names no field that is not public (a probe, a verdict, public unit fields).
  if (!query || !GUARDED_NAMES.some((name) => query.includes(name))) return send(options);
  const caller = (options.context as Partial<RequestContext> | undefined)?.caller ?? null;
  const plan = planOf(subgraph, query, caller);
  if (!plan) return send(options);
  const answer = await send(plan.sent ? { ...options, request: { ...options.request, query: plan.sent.query }, document: plan.sent.document } : options);
  applyToAnswer(plan, answer, caller, options.request.variables?.representations);
  return answer;
}

/** What decides the plan: role, and the enterprise a manufacturer acts for (the shared-answer key's rights). */
function rightsKeyOf(caller: Caller | null): string {
  // A caller without a role is refused with a message naming its subject; the gateway's own subject has rights of its own.
  if (!caller) return 'anonymous';
  return caller.role && caller.subject !== GATEWAY_SUBJECT ? `${caller.role}|${caller.enterprise ?? ''}` : `${caller.role ?? ''}|${caller.subject}`;
}

function planOf(subgraph: DataSubgraphName, query: string, caller: Caller | null): Plan | null {
  const key = `${subgraph}\n${rightsKeyOf(caller)}\n${query}`;
  let plan = plans.get(key);
  if (plan === undefined) {
    plan = buildPlan(subgraph, query, caller);
    if (plans.size >= PLAN_CACHE_SIZE) plans.delete(plans.keys().next().value!);
    plans.set(key, plan);
  }
  return plan;
}

function rightOfField(type: string, field: string): Right | null {
  if (type.startsWith('__') || SKIPPED_TYPES.has(type) || field.startsWith('__')) return null;
  return rightOf(type, field) ?? ONLY_AUTHORITY;
}

function buildPlan(subgraph: DataSubgraphName, query: string, caller: Caller | null): Plan | null {
  const schema = schemaOf(subgraph);
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch {
    return null; // the partner answers an unparsable fetch with its own error
  }
  const refusals: Plan['refusals'] = new Map();
  let owners = false;
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        if (!parent) return;
        const right = rightOfField(parent.name, node.name.value);
        if (!right || right.kind === 'public') return;
        if (right.kind === 'owner-reference') {
          owners = true;
          return;
        }
        const name = `${parent.name}.${node.name.value}`;
        const refusal = refusalOf(name, right, caller);
        if (refusal) refusals.set(name, { message: refusal.message, extensions: { ...refusal.extensions } });
      },
    }),
  );
  const withheld = owners && caller?.role !== 'authority';
  if (refusals.size === 0 && !withheld) return null;

  // A manufacturer's rights depend on the unit: ask for its code wherever an owner reference may be read.
  const annotated = withheld && caller?.role === 'manufacturer' ? withUnitCodes(schema, document) : document;
  const stripInfo = new TypeInfo(schema);
  const stripped =
    refusals.size === 0
      ? annotated
      : validAfterStripping(
          visit(
            annotated,
            visitWithTypeInfo(stripInfo, {
              Field(node) {
                const parent = stripInfo.getParentType();
                return parent && refusals.has(`${parent.name}.${node.name.value}`) ? null : undefined;
              },
            }),
          ),
        );
  const operation = annotated.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (!operation) return null;
  return {
    schema,
    operation,
    fragments: new Map(annotated.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f])),
    sent: stripped === document ? null : { query: print(stripped), document: stripped },
    refusals,
    guarded: new WeakMap(),
    steps: new Map(),
  };
}

/** Every Unit selection also asks for `code`, every event selecting an owner reference for `unit { code }`. */
function withUnitCodes(schema: GraphQLSchema, document: DocumentNode): DocumentNode {
  const typeInfo = new TypeInfo(schema);
  return visit(
    document,
    visitWithTypeInfo(typeInfo, {
      SelectionSet: {
        leave(node) {
          const type = typeInfo.getParentType();
          if (!type || !isObjectType(type)) return undefined;
          const fields = type.getFields();
          if (type.name === 'Unit' && fields.code) return { ...node, selections: [...node.selections, aliased(UNIT_CODE_ALIAS, 'code')] };
          const selectsOwner = node.selections.some((s) => s.kind === Kind.FIELD && rightOfField(type.name, s.name.value)?.kind === 'owner-reference');
          if (type.name === 'LifecycleEvent' && fields.unit && selectsOwner) {
            return { ...node, selections: [...node.selections, aliased(EVENT_UNIT_ALIAS, 'unit', [aliased(undefined, 'code')])] };
          }
          return undefined;
        },
      },
    }),
  );
}

function aliased(alias: string | undefined, name: string, selections?: FieldNode[]): FieldNode {
  return {
    kind: Kind.FIELD,
    ...(alias ? { alias: { kind: Kind.NAME, value: alias } } : {}),
    name: { kind: Kind.NAME, value: name },
    ...(selections ? { selectionSet: { kind: Kind.SELECTION_SET, selections } } : {}),
  };
}

/**
 * What to do on one object of a given type for one selection, compiled once per plan: only the fields that
 * are refused, are owner references, or lead to one (fragments that apply to the type are flattened in).
 */
type Step =
  | { kind: 'refuse'; key: string; nonNull: boolean; error: { message: string; extensions: Record<string, unknown> } }
  | { kind: 'owner'; key: string }
  | { kind: 'descend'; key: string; nonNull: boolean; shape: Shape };
/** A field's value: a list (of shapes), or an object of a type (null: abstract, resolved per value). */
type Shape = { list: true; itemNonNull: boolean; item: Shape } | { list: false; selectionSet: SelectionSetNode; type: string | null };

/** A response path as a chain: made into an array only for an error. */
interface Path {
  parent: Path | null;
  key: string | number;
}
function toArray(path: Path | null, last: string): (string | number)[] {
  const keys: (string | number)[] = [last];
  for (let p = path; p; p = p.parent) keys.push(p.key);
  return keys.reverse();
}

interface Walk {
  plan: Plan;
  caller: Caller | null;
  errors: GraphQLFormattedError[];
  representations: unknown;
  /** Owner references: read by all (the authority), by none, or decided per unit (a manufacturer). */
  owners: 'all' | 'none' | 'per-unit';
}

function applyToAnswer(plan: Plan, answer: Answer, caller: Caller | null, representations: unknown): void {
  const data = answer.data;
  if (!data || typeof data !== 'object') return;
  const root = plan.operation.operation === 'mutation' ? plan.schema.getMutationType() : plan.schema.getQueryType();
  if (!root) return;
  const owners = caller?.role === 'authority' ? 'all' : caller?.role === 'manufacturer' ? 'per-unit' : 'none';
  const walk: Walk = { plan, caller, errors: [], representations, owners };
  if (walkObject(walk, stepsOf(plan, plan.operation.selectionSet, root.name), root.name, data, null, null)) answer.data = null;
  if (walk.errors.length) answer.errors = [...(answer.errors ?? []), ...walk.errors];
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * Applies the rights to one object of the answer, as graphql-js would have executed the selection on our
 * node: returns true when the object must be null (a non-null field of it was refused or became null).
 * Like graphql-js, an object that becomes null reports only the errors raised before that point.
 */
function walkObject(walk: Walk, steps: Step[], type: string, object: Record<string, unknown>, path: Path | null, unitCode: string | null): boolean {
  if (walk.owners === 'per-unit') {
    if (type === 'Unit') unitCode = text(object[UNIT_CODE_ALIAS]) ?? text(object[KEY_ALIAS]) ?? unitCode;
    else if (type === 'LifecycleEvent') unitCode = text((object[EVENT_UNIT_ALIAS] as { code?: unknown } | null | undefined)?.code) ?? unitCode;
    if (object[UNIT_CODE_ALIAS] !== undefined) delete object[UNIT_CODE_ALIAS];
    if (object[EVENT_UNIT_ALIAS] !== undefined) delete object[EVENT_UNIT_ALIAS];
  }
  for (const step of steps) {
    if (step.kind === 'refuse') {
      walk.errors.push({ message: step.error.message, path: toArray(path, step.key), extensions: step.error.extensions });
      if (step.nonNull) return true;
      object[step.key] = null;
    } else if (step.kind === 'owner') {
      // As our nodes do (applyAccessPolicy): WITHHELD whatever the value, a null one too.
      if (walk.owners !== 'all' && step.key in object && (walk.owners === 'none' || !mayReadOwner(walk.caller, unitCode))) object[step.key] = WITHHELD;
    } else if (completeValue(walk, step.shape, object[step.key], { parent: path, key: step.key }, unitCode)) {
      if (step.nonNull) return true;
      object[step.key] = null;
    }
  }
  return false;
}

function completeValue(walk: Walk, shape: Shape, value: unknown, path: Path, unitCode: string | null): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (shape.list) {
    if (!Array.isArray(value)) return false;
    for (let i = 0; i < value.length; i++) {
      if (completeValue(walk, shape.item, value[i], { parent: path, key: i }, unitCode)) {
        if (shape.itemNonNull) return true;
        value[i] = null;
      }
    }
    return false;
  }
  const object = value as Record<string, unknown>;
  let type = shape.type;
  if (type === null) {
    // An `_entities` entry: its type from the answer, else from the representation it answers.
    const index = path.parent?.key === '_entities' && path.parent.parent === null ? (path.key as number) : -1;
    const representation = index >= 0 && Array.isArray(walk.representations) ? (walk.representations[index] as Record<string, unknown> | undefined) : undefined;
    type = text(object.__typename) ?? text(object[TYPE_ALIAS]) ?? text(representation?.__typename);
    if (type === null) return false;
    if (representation && type === 'Unit') unitCode = text(representation.code) ?? unitCode;
  }
  return walkObject(walk, stepsOf(walk.plan, shape.selectionSet, type), type, object, path, unitCode);
}

/** The steps of a selection on an object of `type`, compiled once per plan. */
function stepsOf(plan: Plan, selectionSet: SelectionSetNode, type: string): Step[] {
  let byType = plan.steps.get(selectionSet);
  if (!byType) plan.steps.set(selectionSet, (byType = new Map()));
  let steps = byType.get(type);
  if (!steps) byType.set(type, (steps = compile(plan, selectionSet, type)));
  return steps;
}

function compile(plan: Plan, selectionSet: SelectionSetNode, typeName: string): Step[] {
  const type = plan.schema.getType(typeName);
  if (!type || !isObjectType(type)) return [];
  const fields = type.getFields();
  const steps: Step[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      const definition = fields[name];
      if (!definition || name.startsWith('__')) continue;
      const key = selection.alias?.value ?? name;
      const error = plan.refusals.get(`${typeName}.${name}`);
      if (error) steps.push({ kind: 'refuse', key, nonNull: isNonNullType(definition.type), error });
      else if (rightOfField(typeName, name)?.kind === 'owner-reference') steps.push({ kind: 'owner', key });
      else if (selection.selectionSet && isGuarded(plan, selection.selectionSet, getNamedType(definition.type).name)) {
        steps.push({ kind: 'descend', key, nonNull: isNonNullType(definition.type), shape: shapeOf(definition.type, selection.selectionSet) });
      }
    } else {
      const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : plan.fragments.get(selection.name.value);
      if (!fragment) continue;
      const condition = fragment.typeCondition?.name.value;
      if (condition && condition !== typeName) {
        const conditionType = plan.schema.getType(condition);
        if (!conditionType || !isAbstractType(conditionType) || !plan.schema.isSubType(conditionType, type)) continue;
      }
      steps.push(...stepsOf(plan, fragment.selectionSet, typeName));
    }
  }
  return steps;
}

function shapeOf(type: GraphQLOutputType, selectionSet: SelectionSetNode): Shape {
  const nullable = isNonNullType(type) ? type.ofType : type;
  if (isListType(nullable)) return { list: true, itemNonNull: isNonNullType(nullable.ofType), item: shapeOf(nullable.ofType, selectionSet) };
  return { list: false, selectionSet, type: isObjectType(nullable) ? nullable.name : null };
}
/** Whether the selection holds a refused field or an owner reference at any depth (memoised per plan). */
function isGuarded(plan: Plan, selectionSet: SelectionSetNode, typeName: string): boolean {
  const known = plan.guarded.get(selectionSet);
  if (known !== undefined) return known;
  plan.guarded.set(selectionSet, false); // fragments cannot cycle in a valid document; this only stops a bad one
  const type = plan.schema.getType(typeName);
  const fields = type && isObjectType(type) ? type.getFields() : {};
  const guarded = selectionSet.selections.some((selection) => {
    if (selection.kind === Kind.FIELD) {
      const definition = fields[selection.name.value];
      if (!definition) return false;
      const right = rightOfField(typeName, selection.name.value);
      if (right?.kind === 'owner-reference' || plan.refusals.has(`${typeName}.${selection.name.value}`)) return true;
      return !!selection.selectionSet && isGuarded(plan, selection.selectionSet, getNamedType(definition.type).name);
    }
    const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : plan.fragments.get(selection.name.value);
    return !!fragment && isGuarded(plan, fragment.selectionSet, fragment.typeCondition?.name.value ?? typeName);
  });
  plan.guarded.set(selectionSet, guarded);
  return guarded;
}
