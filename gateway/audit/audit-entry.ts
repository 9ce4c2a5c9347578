import { Kind, valueFromASTUntyped, type FieldNode, type GraphQLFormattedError, type OperationDefinitionNode } from 'graphql';
import type { RequestContext } from '../../lib/server/request-context.js';
import { MAX_CODES_PER_REQUEST } from '../../lib/limits/request-limits.js';

/** What the audit log keeps of one request (schema/audit.graphql, AuditEntryInput). */
export interface AuditEntryInput {
  at: string;
  requestId: string;
  subject: string | null;
  role: string | null;
  country: string | null;
  enterprise: string | null;
  operationType: string;
  operationName: string | null;
  fields: string[];
  codes: string[];
  verdicts: string[];
  outcome: string;
}

/** Every write, and every read by a customs officer or a partner (design: "Trust"). */
export function isAudited(operation: OperationDefinitionNode, context: RequestContext): boolean {
  return operation.operation === 'mutation' || context.caller?.role === 'customs' || context.caller?.role === 'partner';
}

/** Where root fields carry codes: arguments, and inside mutation inputs. */
const CODE_PATHS: Record<string, ((args: Record<string, any>) => unknown)[]> = {
  unit: [(a) => a.code],
  units: [(a) => a.codes],
  enterprise: [(a) => a.code],
  productModel: [(a) => a.code],
  recall: [(a) => a.code],
  verify: [(a) => a.code],
  verifyMany: [(a) => a.codes],
  parseCode: [(a) => a.code],
  registry: [(a) => a.country],
  registerEnterprise: [(a) => a.input?.code],
  setEnterpriseStatus: [(a) => a.code],
  registerProductModel: [(a) => a.input?.code],
  setProductModelStatus: [(a) => a.code],
  registerUnits: [(a) => a.input?.model],
  recordEvents: [(a) => (Array.isArray(a.events) ? a.events.map((e: { unit?: unknown }) => e?.unit) : [])],
  openRecall: [(a) => a.input?.model],
  closeRecall: [(a) => a.code],
};

export function auditEntry(
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  context: RequestContext,
  data: Record<string, unknown> | null | undefined,
  errors: readonly GraphQLFormattedError[] | undefined,
): AuditEntryInput {
  const fields = operation.selectionSet.selections.filter((s): s is FieldNode => s.kind === Kind.FIELD);
  const codes: string[] = [];
  const verdicts: string[] = [];
  for (const field of fields) {
    const args = Object.fromEntries((field.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value, variables)]));
    for (const path of CODE_PATHS[field.name.value] ?? []) {
      for (const code of [path(args)].flat()) if (typeof code === 'string' && codes.length < MAX_CODES_PER_REQUEST) codes.push(storable(code.slice(0, 64)));
    }
    if (field.name.value === 'verify' || field.name.value === 'verifyMany') {
      const answer = data?.[field.alias?.value ?? field.name.value];
      for (const item of [answer].flat()) {
        const verdict = (item as { verdict?: unknown } | null)?.verdict;
        verdicts.push(typeof verdict === 'string' ? verdict : 'NOT_ASKED');
      }
    }
  }
  const errorCodes = [...new Set((errors ?? []).map((e) => String(e.extensions?.code ?? 'ERROR')))];
  return {
    at: new Date().toISOString(),
    requestId: context.requestId,
    subject: context.caller ? storable(context.caller.subject) : null,
    role: context.caller?.role ?? null,
    country: context.caller?.country ?? null,
    enterprise: context.caller?.enterprise ?? null,
    operationType: operation.operation,
    operationName: operation.name?.value ?? null,
    fields: [...new Set(fields.map((f) => f.name.value))],
    codes,
    verdicts: verdicts.slice(0, MAX_CODES_PER_REQUEST),
    outcome: errorCodes.length ? errorCodes.sort().join(',') : 'OK',
  };
}

// verify judges any text it is given (a NUL byte included) and a token's subject is the issuer's to
// choose: the audit keeps what was asked, but as text the database can store, or the entry (and
// every one queued behind it) would be refused.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;

function storable(text: string): string {
  return text.replace(CONTROL, '\uFFFD');
}
