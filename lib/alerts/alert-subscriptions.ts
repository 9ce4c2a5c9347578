import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { registryError } from '../errors.js';
import { normaliseCode } from '../identity-code/identity-code.js';
import type { Caller } from '../server/request-context.js';
import { newSubscriptionSecret } from './alert-signature.js';
import { AlertUrlRefused, checkAllowedUrl, resolvePublicAddress, type AlertTargetsFor } from './alert-url-policy.js';
import { ALERT_KINDS, type AlertKind, type AlertsDb, type AlertSubscriptionRow, type DeliveryStatus } from './alerts-table.js';

export const MAX_SUBSCRIPTIONS_PER_COUNTRY = 50;
const MAX_MODELS = 200;
const MODEL = /^[0-9A-Z]{12}$/;

export interface AlertSubscriptionInput {
  url: string;
  scope: { importsInto?: string | null; models?: readonly string[] | null };
  kinds?: readonly AlertKind[] | null;
}

/** A partner subscribes for its own country; the URL must be one the directory allows it. */
export async function createSubscription(db: Kysely<AlertsDb>, caller: Caller, input: AlertSubscriptionInput, targetsFor: AlertTargetsFor): Promise<{ row: AlertSubscriptionRow; secret: string }> {
  const country = caller.country;
  if (caller.role !== 'partner' || !country) throw registryError('FORBIDDEN', 'only a partner (with a country claim) may subscribe to alerts');
  const importsInto = input.scope.importsInto?.trim().toUpperCase() || null;
  const models = input.scope.models ? [...new Set(input.scope.models.map((m) => normaliseCode(m)))] : null;
  if ((importsInto === null) === (models === null)) throw registryError('BAD_USER_INPUT', 'scope needs exactly one of importsInto or models');
  if (importsInto !== null && importsInto !== country) {
    throw registryError('FORBIDDEN', `a partner of ${country} may subscribe to imports into ${country} only, not ${importsInto}`);
  }
  if (models !== null) {
    if (models.length === 0 || models.length > MAX_MODELS) throw registryError('BAD_USER_INPUT', `scope.models must list 1 to ${MAX_MODELS} product model codes`);
    const bad = models.find((m) => !MODEL.test(m));
    if (bad) throw registryError('MALFORMED_CODE', `scope.models: ${JSON.stringify(bad.slice(0, 40))} is not a 12-character product model code`);
  }
  const kinds = [...new Set(input.kinds?.length ? input.kinds : ALERT_KINDS)];
  const targets = targetsFor(country);
  let url: URL;
  try {
    url = checkAllowedUrl(input.url, targets, country);
    await resolvePublicAddress(url.hostname, targets!.allowPrivate);
  } catch (error) {
    if (error instanceof AlertUrlRefused) throw registryError('URL_NOT_ALLOWED', error.message);
    throw registryError('BAD_USER_INPUT', `url ${JSON.stringify(input.url.slice(0, 100))} cannot be resolved: ${(error as Error).message}`);
  }
  const existing = await db.selectFrom('alert_subscription').select((eb) => eb.fn.countAll<number>().as('n')).where('country', '=', country).executeTakeFirstOrThrow();
  if (Number(existing.n) >= MAX_SUBSCRIPTIONS_PER_COUNTRY) throw registryError('LIMIT_EXCEEDED', `at most ${MAX_SUBSCRIPTIONS_PER_COUNTRY} alert subscriptions per country`);
  const secret = newSubscriptionSecret();
  const row = await db
    .insertInto('alert_subscription')
    .values({ id: randomUUID(), country, subscriber: caller.subject, url: url.href, secret, imports_into: importsInto, models, kinds })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { row, secret };
}

/** A partner sees its country's subscriptions; the authority sees all. */
export function listSubscriptions(db: Kysely<AlertsDb>, caller: Caller): Promise<AlertSubscriptionRow[]> {
  let query = db.selectFrom('alert_subscription').selectAll();
  if (caller.role !== 'authority') query = query.where('country', '=', caller.country ?? '');
  return query.orderBy('created_at').execute();
}

export async function deleteSubscription(db: Kysely<AlertsDb>, caller: Caller, id: string): Promise<boolean> {
  if (!/^[0-9a-f-]{36}$/.test(id)) throw registryError('BAD_USER_INPUT', `id ${JSON.stringify(id.slice(0, 50))} is not a subscription id`);
  let query = db.deleteFrom('alert_subscription').where('id', '=', id);
  if (caller.role !== 'authority') query = query.where('country', '=', caller.country ?? '');
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export interface DeliveryFilter {
  status?: DeliveryStatus | null;
  subscription?: string | null;
  /** Already checked (0 to 500: the resolver refuses more, like every list). */
  first: number;
  /** A delivery id: only older ones (the log is newest first, so the last id of a page gives the next). */
  before?: string | null;
}

/** Newest first, with what the alert was (kind) joined from the outbox. */
export function listDeliveries(db: Kysely<AlertsDb>, filter: DeliveryFilter, caller: Caller) {
  let query = db
    .selectFrom('alert_delivery as d')
    .innerJoin('alert_outbox as o', 'o.id', 'd.alert_id')
    .innerJoin('alert_subscription as s', 's.id', 'd.subscription_id')
    .selectAll('d')
    .select(['o.kind', 's.country']);
  if (filter.status) query = query.where('d.status', '=', filter.status);
  if (filter.subscription) query = query.where('d.subscription_id', '=', filter.subscription);
  if (caller.role !== 'authority') query = query.where('s.country', '=', caller.country ?? '');
  if (filter.before !== null && filter.before !== undefined) {
    if (!/^[1-9]\d{0,17}$/.test(filter.before)) throw registryError('BAD_USER_INPUT', `before must be a delivery id, got ${JSON.stringify(filter.before.slice(0, 40))}`);
    query = query.where('d.id', '<', filter.before);
  }
  return query.orderBy('d.id', 'desc').limit(filter.first).execute();
}

export function listAttempts(db: Kysely<AlertsDb>, deliveryIds: readonly string[]) {
  if (deliveryIds.length === 0) return Promise.resolve([]);
  return db.selectFrom('alert_attempt').selectAll().where('delivery_id', 'in', [...deliveryIds]).orderBy('id').execute();
}

/** The authority sends dead letters again: pending from now, attempts counted afresh. */
export async function replayDeadLetters(db: Kysely<AlertsDb>, ids: readonly string[], now: Date): Promise<string[]> {
  const bad = ids.find((id) => !/^\d{1,19}$/.test(id));
  if (bad !== undefined) throw registryError('BAD_USER_INPUT', `${JSON.stringify(bad.slice(0, 40))} is not a delivery id`);
  if (ids.length === 0) return [];
  const rows = await db
    .updateTable('alert_delivery')
    .set({ status: 'PENDING', attempts: 0, next_attempt_at: now, lease_until: null })
    .where('id', 'in', [...ids])
    .where('status', '=', 'DEAD')
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}
