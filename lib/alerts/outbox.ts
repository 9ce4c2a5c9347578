import { sql, type Kysely } from 'kysely';
import { randomUUID } from 'node:crypto';
import { ALERTS_SCHEMA, type AlertKind } from './alerts-table.js';

/** A change partners may be told about, as the subgraph that made it describes it. */
export interface NewAlert {
  kind: AlertKind;
  /** A unit, model or enterprise code (canonical). */
  subject: string;
  occurredAt: Date;
  /** Border countries of the unit (unit alerts only). */
  countries?: readonly string[];
  facts: Record<string, unknown>;
}

const table = (name: string) => sql.table(`${ALERTS_SCHEMA}.${name}`);

/**
 * The transactional outbox: call it with the transaction of the change itself, so that the alert
 * commits exactly when the change does (and is lost with it on a rollback). The per-subject counter
 * row is locked by the upsert until commit, so two writers on one subject take consecutive numbers.
 * Raw SQL on the alerts schema: the writer's Kysely is scoped to its own schema and types.
 */
export async function enqueueAlerts(trx: Kysely<any>, alerts: readonly NewAlert[]): Promise<void> {
  for (const alert of alerts) {
    const { rows } = await sql<{ last_sequence: number }>`
      insert into ${table('alert_subject_sequence')} (subject, last_sequence) values (${alert.subject}, 1)
      on conflict (subject) do update set last_sequence = ${table('alert_subject_sequence')}.last_sequence + 1
      returning last_sequence`.execute(trx);
    const sequence = rows[0]!.last_sequence;
    await sql`
      insert into ${table('alert_outbox')} (id, kind, subject, sequence, model, enterprise, countries, occurred_at, facts)
      values (${randomUUID()}, ${alert.kind}, ${alert.subject}, ${sequence}, ${alert.subject.length >= 12 ? alert.subject.slice(0, 12) : null},
        ${alert.subject.slice(0, 6)}, ${[...(alert.countries ?? [])]}::text[], ${alert.occurredAt}, ${JSON.stringify(alert.facts)}::jsonb)`.execute(trx);
  }
}

/** Records border crossings (unit, country), for `importsInto` scopes on model and enterprise alerts. */
export async function recordCrossings(trx: Kysely<any>, crossings: readonly { unit: string; country: string }[]): Promise<void> {
  if (crossings.length === 0) return;
  const rows = crossings.map((c) => sql`(${c.unit}, ${c.country}, ${c.unit.slice(0, 12)}, ${c.unit.slice(0, 6)})`);
  await sql`insert into ${table('alert_unit_crossing')} (unit, country, model, enterprise) values ${sql.join(rows)} on conflict do nothing`.execute(trx);
}
