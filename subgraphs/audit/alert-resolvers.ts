import type { Kysely } from 'kysely';
import { createSubscription, deleteSubscription, listAttempts, listDeliveries, listSubscriptions, replayDeadLetters, type AlertSubscriptionInput } from '../../lib/alerts/alert-subscriptions.js';
import type { AlertTargetsFor } from '../../lib/alerts/alert-url-policy.js';
import { ALERTS_SCHEMA, type AlertsDb, type AlertSubscriptionRow, type DeliveryStatus } from '../../lib/alerts/alerts-table.js';
import { registryError } from '../../lib/errors.js';
import { pageLimit } from '../../lib/subgraph/pagination.js';
import type { AlertsDeps } from '../../lib/subgraph/subgraph-module.js';
import type { Caller, RequestContext } from '../../lib/server/request-context.js';


const callerOf = (ctx: RequestContext): Caller => {
  if (!ctx.caller) throw registryError('UNAUTHENTICATED', 'alerts need a signed-in caller');
  return ctx.caller;
};

/** Push-alert subscriptions and the delivery log (schema/audit.graphql, docs/alerts.md). */
export function alertResolvers(auditDb: Kysely<unknown>, options: AlertsDeps | undefined) {
  const db = auditDb.withSchema(ALERTS_SCHEMA) as unknown as Kysely<AlertsDb>;
  const clock = options?.clock ?? (() => new Date());
  const targetsFor: AlertTargetsFor = options?.targetsFor ?? (() => undefined);
  return {
    Query: {
      alertSubscriptions: (_: unknown, __: unknown, ctx: RequestContext) => listSubscriptions(db, callerOf(ctx)),
      async alertDeliveries(_: unknown, args: { status?: DeliveryStatus | null; subscription?: string | null; first?: number | null; before?: string | null }, ctx: RequestContext) {
        // Like every list: more than 500 is LIMIT_EXCEEDED, not silently cut.
        const rows = await listDeliveries(db, { ...args, first: pageLimit(args.first) }, callerOf(ctx));
        const attempts = await listAttempts(db, rows.map((r) => r.id));
        return rows.map((row) => ({ ...row, log: attempts.filter((a) => a.delivery_id === row.id) }));
      },
    },
    Mutation: {
      async createAlertSubscription(_: unknown, { input }: { input: AlertSubscriptionInput }, ctx: RequestContext) {
        const { row, secret } = await createSubscription(db, callerOf(ctx), input, targetsFor);
        ctx.log.info({ subscription: row.id, country: row.country, url: row.url }, 'alert subscription created');
        return { subscription: row, secret };
      },
      deleteAlertSubscription: (_: unknown, { id }: { id: string }, ctx: RequestContext) => deleteSubscription(db, callerOf(ctx), id),
      replayAlertDeliveries: (_: unknown, { ids }: { ids: string[] }) => replayDeadLetters(db, ids, clock()),
    },
    AlertSubscription: {
      scope: (row: AlertSubscriptionRow) => ({ importsInto: row.imports_into, models: row.models }),
      createdAt: (row: AlertSubscriptionRow) => row.created_at,
    },
    AlertDelivery: {
      alertId: (row: { alert_id: string }) => row.alert_id,
      subscription: (row: { subscription_id: string }) => row.subscription_id,
      lastError: (row: { last_error: string | null }) => row.last_error,
      nextAttemptAt: (row: { next_attempt_at: Date }) => row.next_attempt_at,
      createdAt: (row: { created_at: Date }) => row.created_at,
      deliveredAt: (row: { delivered_at: Date | null }) => row.delivered_at,
    },
    AlertAttempt: {
      httpStatus: (row: { http_status: number | null }) => row.http_status,
      latencyMs: (row: { latency_ms: number }) => row.latency_ms,
    },
  };
}
