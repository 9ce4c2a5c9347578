import { defaultFieldResolver, GraphQLError, isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { normaliseCode } from '../identity-code/identity-code.js';
import type { Caller, RequestContext, Role } from '../server/request-context.js';

/**
 * Who may do what: the one table of rights (README "Who may do what" is this table in words). It is
 * enforced where the data lives: every subgraph wraps its schema's resolvers with it before serving, so
 * whichever path reaches a field (a root field, an entity fetch, a nested list), the same rule applies.
 *
 * Every field of the contract has an entry (a test checks the composed supergraph against it), so a new
 * field is refused to all but the authority until someone decides who may read it.
 */
export type Right =
  /** Anyone, signed in or not. */
  | { kind: 'public' }
  /** These roles only; anonymous callers get UNAUTHENTICATED, other roles FORBIDDEN. */
  | { kind: 'roles'; roles: readonly Role[] }
  /**
   * A write: these roles, and a manufacturer only for codes under its own enterprise (the codes the
   * arguments name; every one must be the manufacturer's, or the whole call is refused).
   */
  | { kind: 'write'; roles: readonly Role[]; manufacturerCodes?: (args: Record<string, unknown>) => unknown[] }
  /**
   * An owner reference: the authority and the manufacturer of the unit read it; everyone else gets
   * WITHHELD (the field stays non-null: that an owner changed is public to signed-in readers, who is not).
   */
  | { kind: 'owner-reference'; unitCodeOf: (parent: Record<string, unknown>) => unknown }
  /** The gateway's own signed calls only (appending to the audit log). */
  | { kind: 'gateway' };

export const WITHHELD = 'WITHHELD';

/**
 * Subjects of the registry's own internal calls: the gateway appending to the audit log, a node asking
 * its siblings. No token or API key may carry them (gateway/identity refuses them).
 */
export const GATEWAY_SUBJECT = 'gateway';
export const isInternalSubject = (subject: string): boolean => subject === GATEWAY_SUBJECT || subject.startsWith('node:');

const PUBLIC: Right = { kind: 'public' };
const READERS: Right = { kind: 'roles', roles: ['authority', 'manufacturer', 'customs', 'partner', 'analyst'] };
const AUTHORITY: Right = { kind: 'roles', roles: ['authority'] };
const PARTNER_AND_AUTHORITY: Right = { kind: 'roles', roles: ['partner', 'authority'] };
const AUTHORITY_AND_MAKER: Right = { kind: 'owner-reference', unitCodeOf: (parent) => parent.unit_code ?? parent.unitCode };

const publicFields = (...fields: string[]) => Object.fromEntries(fields.map((f) => [f, PUBLIC]));
const readerFields = (...fields: string[]) => Object.fromEntries(fields.map((f) => [f, READERS]));
const write = (roles: Role[], manufacturerCodes?: (args: Record<string, unknown>) => unknown[]): Right => ({ kind: 'write', roles, manufacturerCodes });
const input = (args: Record<string, unknown>) => (args.input ?? {}) as Record<string, unknown>;

/**
 * Type -> field -> right. `*` is the right of every field of the type not listed (connections, edges and
 * value types inherit what it took to reach them, so they are public: the field that returns them is
 * the one that is checked).
 */
export const ACCESS_POLICY: Record<string, Record<string, Right>> = {
  Query: {
    ...publicFields('parseCode', 'registry', 'registries', 'verify', 'verifyMany', 'unit', 'units', 'enterprise', 'productModel', 'recall'),
    // Federation plumbing: entity fetches are checked field by field on the entity types.
    ...publicFields('_entities', '_service'),
    auditLog: AUTHORITY,
    // Push alerts (docs/alerts.md): a partner manages its own country's subscriptions (checked again in lib/alerts).
    alertSubscriptions: PARTNER_AND_AUTHORITY,
    alertDeliveries: PARTNER_AND_AUTHORITY,
  },
  Mutation: {
    registerEnterprise: write(['authority']),
    setEnterpriseStatus: write(['authority']),
    registerProductModel: write(['authority', 'manufacturer'], (args) => [input(args).code]),
    setProductModelStatus: write(['authority']),
    registerUnits: write(['authority', 'manufacturer'], (args) => [input(args).model]),
    recordEvents: write(['authority', 'manufacturer'], (args) => (Array.isArray(args.events) ? args.events.map((e: { unit?: unknown }) => e?.unit) : [])),
    openRecall: write(['authority', 'manufacturer'], (args) => [input(args).model]),
    closeRecall: write(['authority']),
    appendAudit: { kind: 'gateway' },
    createAlertSubscription: { kind: 'roles', roles: ['partner'] },
    deleteAlertSubscription: PARTNER_AND_AUTHORITY,
    replayAlertDeliveries: AUTHORITY,
  },
  // The public view of a robot, a model and a maker: what a phone shows after scanning a label.
  Unit: {
    ...publicFields('code', 'display', 'serial', 'model', 'enterprise', 'registeredAt', 'state', 'recalls', 'openRecalls'),
    ...readerFields('events', 'provenance'),
  },
  ProductModel: {
    ...publicFields('code', 'display', 'name', 'category', 'status', 'enterprise', 'registeredAt', 'recalls'),
    ...readerFields('units', 'unitCount', 'statusHistory'),
  },
  Enterprise: {
    ...publicFields('code', 'display', 'country', 'name', 'status', 'registeredAt'),
    // The current status is public; the history of the authority's decisions (with reasons) is for readers.
    ...readerFields('productModels', 'unitCount', 'statusHistory'),
  },
  Registry: {
    ...publicFields('country', 'name', 'home', 'reachable'),
    ...readerFields('enterprises', 'productModels', 'units', 'unitCount', 'unitsByModel', 'unitsInState', 'unitsByState', 'eventsPerMonth', 'events'),
  },
  // Recall notices are public safety information; verdict facts are what anonymous `verify` is made of.
  RecallCampaign: { '*': PUBLIC },
  Verification: { '*': PUBLIC },
  UnitRegistration: { '*': PUBLIC },
  VerificationReason: { '*': PUBLIC },
  CodeParse: { '*': PUBLIC },
  CodeProblem: { '*': PUBLIC },
  // Reached only through reader fields above.
  ...Object.fromEntries(
    [
      'EnterpriseConnection', 'EnterpriseEdge', 'ProductModelConnection', 'ProductModelEdge', 'UnitConnection', 'UnitEdge',
      'UnitStateConnection', 'UnitStateEdge', 'LifecycleEventConnection', 'LifecycleEventEdge', 'PageInfo',
      'ModelUnitCount', 'StateUnitCount', 'MonthEventCount', 'Provenance', 'BorderCrossing',
      'OwnershipConnection', 'OwnershipEdge', 'BorderCrossingConnection', 'BorderCrossingEdge',
      'EnterpriseStatusChange', 'EnterpriseStatusChangeConnection', 'EnterpriseStatusChangeEdge',
      'ProductModelStatusChange', 'ProductModelStatusChangeConnection', 'ProductModelStatusChangeEdge',
    ].map((type) => [type, { '*': PUBLIC }]),
  ),
  Ownership: { '*': PUBLIC, owner: AUTHORITY_AND_MAKER },
  LifecycleEvent: { '*': PUBLIC, owner: AUTHORITY_AND_MAKER, recordedBy: AUTHORITY_AND_MAKER },
  AuditEntry: { '*': PUBLIC },
  AuditEntryConnection: { '*': PUBLIC },
  AuditEntryEdge: { '*': PUBLIC },
  ...Object.fromEntries(['AlertSubscription', 'AlertScope', 'CreatedAlertSubscription', 'AlertDelivery', 'AlertAttempt'].map((type) => [type, { '*': PUBLIC }])),
};

/** Federation's own types are plumbing, not data. */
const SKIPPED_TYPES = new Set(['_Service', '_Entity', '_Any']);

export function rightOf(type: string, field: string): Right | undefined {
  const fields = ACCESS_POLICY[type];
  return fields?.[field] ?? fields?.['*'];
}

/**
 * Wraps every non-public field's resolver in the schema with its check, in place. Fields without an
 * entry are the authority's alone. Public fields keep their resolver untouched (no cost on the hot path).
 */
export function applyAccessPolicy(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__') || SKIPPED_TYPES.has(type.name)) continue;
    for (const field of Object.values(type.getFields())) {
      const right = rightOf(type.name, field.name) ?? AUTHORITY;
      if (right.kind === 'public') continue;
      field.resolve = guard(`${type.name}.${field.name}`, right, field.resolve ?? defaultFieldResolver);
    }
  }
  return schema;
}

function guard(name: string, right: Right, resolve: GraphQLFieldResolver<unknown, unknown>): GraphQLFieldResolver<unknown, unknown> {
  return (parent, args, context, info) => {
    const caller = (context as Partial<RequestContext>).caller ?? null;
    if (right.kind === 'owner-reference') {
      return mayReadOwner(caller, right.unitCodeOf(parent as Record<string, unknown>)) ? resolve(parent, args, context, info) : WITHHELD;
    }
    const refusal = refusalOf(name, right, caller, args as Record<string, unknown>);
    if (refusal) throw refusal;
    return resolve(parent, args, context, info);
  };
}

/** Why `caller` may not use the field, or null when it may. Exported for tests and the README table. */
export function refusalOf(name: string, right: Right, caller: Caller | null, args: Record<string, unknown> = {}): GraphQLError | null {
  if (right.kind === 'public' || right.kind === 'owner-reference') return null;
  if (right.kind === 'gateway') {
    return caller?.subject === GATEWAY_SUBJECT ? null : new GraphQLError(`${name} is the gateway's own internal call`, { extensions: { code: 'FORBIDDEN' } });
  }
  const roles = right.roles;
  if (!caller?.role) {
    // A token without a role is anonymous (gateway/identity): say so rather than ask for a token it sent.
    const remedy = caller ? `the token of ${JSON.stringify(caller.subject)} carries no role` : 'send a bearer token or an API key';
    return new GraphQLError(`${name} needs a signed-in caller with role ${roles.join(' or ')}; ${remedy}`, {
      extensions: { code: 'UNAUTHENTICATED', roles },
    });
  }
  if (!roles.includes(caller.role)) {
    return new GraphQLError(`role ${caller.role} may not use ${name}; it needs role ${roles.join(' or ')}`, {
      extensions: { code: 'FORBIDDEN', roles },
    });
  }
  if (right.kind === 'write' && caller.role === 'manufacturer') {
    const own = caller.enterprise ?? '';
    const codes = right.manufacturerCodes ? right.manufacturerCodes(args) : [];
    if (!right.manufacturerCodes) {
      return new GraphQLError(`role manufacturer may not use ${name}`, { extensions: { code: 'FORBIDDEN', roles: ['authority'] } });
    }
    const foreign = codes.map((c) => (typeof c === 'string' ? normaliseCode(c) : '')).find((c) => !own || c.slice(0, 6) !== own);
    if (foreign !== undefined) {
      return new GraphQLError(
        `manufacturer ${own || '(no enterprise claim)'} may use ${name} only for codes under its own enterprise; ${JSON.stringify(foreign.slice(0, 29))} is not`,
        { extensions: { code: 'FORBIDDEN', enterprise: own || null } },
      );
    }
  }
  return null;
}

/** Whether `caller` reads the owner references of the unit `unitCode` (else WITHHELD). */
export function mayReadOwner(caller: Caller | null, unitCode: unknown): boolean {
  if (caller?.role === 'authority') return true;
  return caller?.role === 'manufacturer' && !!caller.enterprise && typeof unitCode === 'string' && unitCode.slice(0, 6) === caller.enterprise;
}
