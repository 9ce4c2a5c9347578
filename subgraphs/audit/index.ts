import { registryError } from '../../lib/errors.js';
import { MAX_CODES_PER_REQUEST } from '../../lib/limits/request-limits.js';
import { resolvePage, type PageArgs } from '../../lib/subgraph/pagination.js';
import { DateTime } from '../../lib/subgraph/scalars.js';
import { appendEntries, countEntries, listEntries, type AuditFilter } from './audit-repository.js';
import type { AuditDb, AuditEntryRow, NewAuditEntry } from './audit-table.js';
import { migrations } from './migrations.js';
import { normaliseCode } from '../../lib/identity-code/identity-code.js';
import type { Kysely } from 'kysely';
import type { AlertsDeps } from '../../lib/subgraph/subgraph-module.js';
import { alertResolvers } from './alert-resolvers.js';

const MAX_BATCH = 1_000;

interface AuditEntryInput {
  at: Date;
  requestId: string;
  subject?: string | null;
  role?: string | null;
  country?: string | null;
  enterprise?: string | null;
  operationType: string;
  operationName?: string | null;
  fields: string[];
  codes: string[];
  verdicts: string[];
  outcome: string;
}

interface AuditFilterInput {
  subject?: string | null;
  role?: string | null;
  country?: string | null;
  code?: string | null;
  operationType?: string | null;
  from?: Date | null;
  before?: Date | null;
}

/** The home node's audit log (schema/audit.graphql): not part of the partner contract. */
export const auditSubgraph = {
  name: 'audit' as const,
  schema: 'audit',
  migrations,
  loaders: () => ({}),
  resolvers: ({ db, alerts }: { db: Kysely<AuditDb>; alerts?: AlertsDeps }) => {
    const alerting = alertResolvers(db as Kysely<unknown>, alerts);
    return {
    DateTime,
    ...alerting,
    Query: {
      ...alerting.Query,
      auditLog(_: unknown, args: PageArgs & { filter?: AuditFilterInput | null }) {
        const filter = readFilter(args.filter);
        // Newest first: the cursor is the id the next page starts below.
        return resolvePage(
          args,
          { rows: (before, limit) => listEntries(db, filter, before, limit), count: () => countEntries(db, filter), position: (row) => String(row.id) },
          readCursor,
        );
      },
    },
    Mutation: {
      ...alerting.Mutation,
      // Only the gateway's own signed call gets here (lib/access: appendAudit).
      async appendAudit(_: unknown, { entries }: { entries: AuditEntryInput[] }) {
        if (entries.length > MAX_BATCH) throw registryError('LIMIT_EXCEEDED', `at most ${MAX_BATCH} entries per call, got ${entries.length}`, { max: MAX_BATCH });
        return appendEntries(db, entries.map(toRow));
      },
    },
    AuditEntry: {
      requestId: (row: AuditEntryRow) => row.request_id,
      operationType: (row: AuditEntryRow) => row.operation_type,
      operationName: (row: AuditEntryRow) => row.operation_name,
    },
    };
  },
};

const short = (value: string | null | undefined, max = 200): string | null => (value == null ? null : value.slice(0, max));

function toRow(entry: AuditEntryInput): NewAuditEntry {
  return {
    at: entry.at,
    request_id: entry.requestId.slice(0, 128),
    subject: short(entry.subject),
    role: short(entry.role, 32),
    country: short(entry.country, 2),
    enterprise: short(entry.enterprise, 6),
    operation_type: entry.operationType.slice(0, 16),
    operation_name: short(entry.operationName),
    fields: entry.fields.slice(0, 100).map((f) => f.slice(0, 100)),
    codes: entry.codes.slice(0, MAX_CODES_PER_REQUEST).map((c) => normaliseCode(c).slice(0, 64)),
    verdicts: entry.verdicts.slice(0, MAX_CODES_PER_REQUEST).map((v) => v.slice(0, 16)),
    outcome: entry.outcome.slice(0, 500),
  };
}

function readFilter(input: AuditFilterInput | null | undefined): AuditFilter {
  return {
    subject: input?.subject ?? null,
    role: input?.role ?? null,
    country: input?.country ?? null,
    code: input?.code ? normaliseCode(input.code) : null,
    operationType: input?.operationType ?? null,
    from: input?.from ?? null,
    before: input?.before ?? null,
  };
}

function readCursor(cursor: string | null | undefined): string | null {
  if (cursor === null || cursor === undefined) return null;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{1,19}$/.test(id)) throw registryError('BAD_USER_INPUT', `after is not a cursor returned by auditLog: ${JSON.stringify(cursor.slice(0, 50))}`);
  return id;
}
