import { sql, type Kysely } from 'kysely';
import type { Logger } from '../logging/logger.js';
import { signAlert, SIGNATURE_HEADER } from './alert-signature.js';
import { checkAllowedUrl, type AlertTargetsFor } from './alert-url-policy.js';
import { postAlert } from './alert-sender.js';
import { ALERTS_SCHEMA, type AlertDeliveryRow, type AlertOutboxRow, type AlertsDb, type AlertSubscriptionRow } from './alerts-table.js';

const t = (name: string) => sql.table(`${ALERTS_SCHEMA}.${name}`);

/** Test-only: exit the process after a delivery is claimed (committed) and before it is sent. Refused in production. */
export const CRASH_BEFORE_SEND_ENV = 'ALERTS_TEST_CRASH_BEFORE_SEND';

export interface DispatcherOptions {
  db: Kysely<AlertsDb>;
  targetsFor: AlertTargetsFor;
  log: Logger;
  /** The registry's country, sent in each alert. */
  country: string;
  /** Injectable for tests (retries without sleeping); default the wall clock. */
  clock?: () => Date;
  /** Delay before attempt n+1 after n failures; default 1 s doubling up to 10 min. */
  backoffMs?: (failures: number) => number;
  /** After this many failed attempts the delivery is a dead letter (default 8). */
  maxAttempts?: number;
  pollMs?: number;
  /** A claimed delivery belongs to its dispatcher this long; after that (a crash) another takes it over. */
  leaseMs?: number;
  timeoutMs?: number;
  batch?: number;
  /** Test-only (CRASH_BEFORE_SEND_ENV): called after the claim commits, before the send. */
  beforeSend?: () => void;
}

export const defaultBackoffMs = (failures: number): number => Math.min(1_000 * 2 ** (failures - 1), 600_000);

/**
 * Reads the outbox and delivers it: fan-out (one delivery per matching subscription), claim (a lease,
 * committed, `for update skip locked` so replicas never take the same row), send, record. At least once:
 * a crash after the claim re-sends once the lease expires; receivers deduplicate by the alert's id.
 */
export class AlertDispatcher {
  readonly #o: Required<Omit<DispatcherOptions, 'beforeSend'>> & Pick<DispatcherOptions, 'beforeSend'>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;
  #again = false;

  constructor(options: DispatcherOptions) {
    this.#o = { clock: () => new Date(), backoffMs: defaultBackoffMs, maxAttempts: 8, pollMs: 200, leaseMs: 30_000, timeoutMs: 10_000, batch: 200, ...options };
  }

  get maxAttempts(): number {
    return this.#o.maxAttempts;
  }

  /** Polls every pollMs (and at once after a pass that found work). */
  start(): void {
    this.#stopped = false;
    this.wake();
  }

  /** Asks for a pass now (after a write in this process, say). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) return void (this.#again = true);
    clearTimeout(this.#timer);
    this.#running = this.tick()
      .catch((error) => this.#o.log.error({ err: error }, 'alert dispatch pass failed'))
      .then((worked) => {
        this.#running = undefined;
        if (this.#stopped) return;
        const soon = worked === true || this.#again;
        this.#again = false;
        this.#timer = setTimeout(() => this.wake(), soon ? 0 : this.#o.pollMs);
      });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** One pass: fan out new alerts, send what is due. True when it did anything. */
  async tick(): Promise<boolean> {
    const fanned = await this.fanOut();
    const claimed = await this.#claim();
    if (claimed.length > 0) this.#o.beforeSend?.();
    if (claimed.length > 0) await this.#deliverAll(claimed);
    return fanned > 0 || claimed.length > 0;
  }

  /** Turns new outbox rows into deliveries for the subscriptions they match, in outbox order. */
  async fanOut(): Promise<number> {
    return this.#o.db.transaction().execute(async (trx) => {
      const alerts = await trx.selectFrom('alert_outbox').selectAll().where('fanned_out', '=', false).orderBy('position').limit(this.#o.batch).forUpdate().skipLocked().execute();
      if (alerts.length === 0) return 0;
      const now = this.#o.clock();
      for (const alert of alerts) {
        await sql`
          insert into ${t('alert_delivery')} (subscription_id, alert_id, subject, sequence, status, next_attempt_at, created_at)
          select s.id, ${alert.id}, ${alert.subject}, ${alert.sequence}, 'PENDING', ${now}, ${now}
          from ${t('alert_subscription')} s
          where ${alert.kind} = any(s.kinds)
            and ((s.imports_into is not null and (s.imports_into = any(${alert.countries}::text[])
                -- a model or enterprise alert: the partner's country has units of it
                or (${alert.subject.length}::int < 29 and exists (select 1 from ${t('alert_unit_crossing')} c where c.country = s.imports_into
                  and (c.model = ${alert.model}::text or (${alert.model}::text is null and c.enterprise = ${alert.enterprise}))))))
              or (s.models is not null and (${alert.model}::text = any(s.models)
                or (${alert.model}::text is null and exists (select 1 from unnest(s.models) m where left(m, 6) = ${alert.enterprise})))))
          on conflict do nothing`.execute(trx);
      }
      await trx.updateTable('alert_outbox').set({ fanned_out: true }).where('id', 'in', alerts.map((a) => a.id)).execute();
      return alerts.length;
    });
  }

  /** Due deliveries whose earlier alerts on the same subject (for that subscription) are all settled. */
  async #claim(): Promise<AlertDeliveryRow[]> {
    const now = this.#o.clock();
    const until = new Date(now.getTime() + this.#o.leaseMs);
    return this.#o.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ id: string }>`
        select d.id from ${t('alert_delivery')} d
        where d.status = 'PENDING' and d.next_attempt_at <= ${now} and (d.lease_until is null or d.lease_until <= ${now})
          and not exists (select 1 from ${t('alert_delivery')} e where e.subscription_id = d.subscription_id and e.subject = d.subject
            and e.status = 'PENDING' and e.sequence < d.sequence)
          -- with two replicas, an earlier alert of the subject may not be fanned out yet: wait for it too
          and not exists (select 1 from ${t('alert_outbox')} o where not o.fanned_out and o.subject = d.subject and o.sequence < d.sequence)
        order by d.id limit ${this.#o.batch} for update skip locked`.execute(trx);
      if (rows.length === 0) return [];
      return trx.updateTable('alert_delivery').set({ lease_until: until }).where('id', 'in', rows.map((r) => r.id)).returningAll().execute();
    });
  }

  /** Sends claimed deliveries concurrently; reads and writes the database in a few statements per batch. */
  async #deliverAll(claimed: AlertDeliveryRow[]): Promise<void> {
    const db = this.#o.db;
    const [alerts, subscriptions] = await Promise.all([
      db.selectFrom('alert_outbox').selectAll().where('id', 'in', [...new Set(claimed.map((d) => d.alert_id))]).execute(),
      db.selectFrom('alert_subscription').selectAll().where('id', 'in', [...new Set(claimed.map((d) => d.subscription_id))]).execute(),
    ]);
    const alertById = new Map(alerts.map((a) => [a.id, a]));
    const subscriptionById = new Map(subscriptions.map((s) => [s.id, s]));
    const outcomes = await Promise.all(
      claimed.flatMap((delivery) => {
        const subscription = subscriptionById.get(delivery.subscription_id);
        // Deleted meanwhile: its deliveries went with it.
        return subscription ? [this.#send(delivery, alertById.get(delivery.alert_id)!, subscription)] : [];
      }),
    );
    await this.#record(outcomes);
  }

  async #send(delivery: AlertDeliveryRow, alert: AlertOutboxRow, subscription: AlertSubscriptionRow): Promise<Outcome> {
    const body = JSON.stringify(alertPayload(alert, this.#o.country));
    try {
      // The directory may have changed since the subscription was made: check again at every send.
      const targets = this.#o.targetsFor(subscription.country);
      const url = checkAllowedUrl(subscription.url, targets, subscription.country);
      const headers = { [SIGNATURE_HEADER]: signAlert(subscription.secret, body, this.#o.clock()), 'x-alert-id': alert.id, 'x-alert-subscription': subscription.id, 'x-alert-attempt': String(delivery.attempts + 1) };
      const t0 = performance.now();
      const result = await postAlert(url, body, headers, targets!.allowPrivate, this.#o.timeoutMs);
      return { delivery, subscription, ...result, latencyMs: Math.round(performance.now() - t0) };
    } catch (error) {
      return { delivery, subscription, httpStatus: null, error: (error as Error).message, latencyMs: 0 };
    }
  }

  /** The delivery log and the new states: successes in one update, each failure its own (backoff differs). */
  async #record(outcomes: Outcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    const now = this.#o.clock();
    await this.#o.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('alert_attempt')
        .values(outcomes.map((o) => ({ delivery_id: o.delivery.id, at: now, http_status: o.httpStatus, error: o.error?.slice(0, 500) ?? null, latency_ms: o.latencyMs })))
        .execute();
      const delivered = outcomes.filter((o) => o.error === null).map((o) => o.delivery.id);
      if (delivered.length > 0) {
        await trx
          .updateTable('alert_delivery')
          .set((eb) => ({ attempts: eb('attempts', '+', 1), lease_until: null, last_error: null, status: 'DELIVERED', delivered_at: now }))
          .where('id', 'in', delivered)
          .execute();
      }
      for (const o of outcomes.filter((o) => o.error !== null)) {
        const attempts = o.delivery.attempts + 1;
        const dead = attempts >= this.#o.maxAttempts;
        await trx
          .updateTable('alert_delivery')
          .set({ attempts, lease_until: null, last_error: o.error!.slice(0, 500), status: dead ? 'DEAD' : 'PENDING', next_attempt_at: dead ? now : new Date(now.getTime() + this.#o.backoffMs(attempts)) })
          .where('id', '=', o.delivery.id)
          .execute();
        if (dead) this.#o.log.warn({ delivery: o.delivery.id, subscription: o.subscription.id, error: o.error }, `alert ${o.delivery.alert_id} is a dead letter after ${attempts} attempts`);
        else this.#o.log.info({ delivery: o.delivery.id, attempts, error: o.error }, 'alert delivery failed; will retry');
      }
    });
  }
}

interface Outcome {
  delivery: AlertDeliveryRow;
  subscription: AlertSubscriptionRow;
  httpStatus: number | null;
  error: string | null;
  latencyMs: number;
}

/** The body a receiver gets (docs/alerts.md, "Payload"). */
export function alertPayload(alert: AlertOutboxRow, registry: string): Record<string, unknown> {
  return {
    id: alert.id,
    kind: alert.kind,
    registry,
    subject: alert.subject,
    unit: alert.subject.length === 29 ? alert.subject : null,
    model: alert.model,
    enterprise: alert.enterprise,
    sequence: alert.sequence,
    occurredAt: alert.occurred_at.toISOString(),
    facts: alert.facts,
  };
}

/** The crash switch, refused in production. */
export function crashHookFromEnv(env: NodeJS.ProcessEnv): (() => void) | undefined {
  if (env[CRASH_BEFORE_SEND_ENV] !== '1') return undefined;
  if (env.NODE_ENV === 'production') throw new Error(`${CRASH_BEFORE_SEND_ENV} is a test switch and is refused under NODE_ENV=production`);
  return () => process.exit(86);
}
