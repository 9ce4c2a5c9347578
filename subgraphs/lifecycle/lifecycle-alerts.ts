import { sql, type Kysely } from 'kysely';
import { enqueueAlerts, recordCrossings, type NewAlert } from '../../lib/alerts/outbox.js';
import type { AlertKind } from '../../lib/alerts/alerts-table.js';
import type { LifecycleDb, LifecycleEventRow } from './lifecycle-table.js';

/** The events partners are told about (docs/alerts.md). */
const ALERTED: Partial<Record<LifecycleEventRow['type'], AlertKind>> = {
  REPORTED_STOLEN: 'UNIT_STOLEN',
  RECOVERED: 'UNIT_RECOVERED',
  SCRAPPED: 'UNIT_SCRAPPED',
  EXPORTED: 'UNIT_EXPORTED',
  IMPORTED: 'UNIT_IMPORTED',
};

/**
 * Appends the alerts of newly recorded events to the outbox, in the recording transaction. Each carries
 * the countries the unit has crossed a border with (its EXPORTED and IMPORTED events, these included),
 * which is what an `importsInto` subscription matches.
 */
export async function enqueueLifecycleAlerts(trx: Kysely<LifecycleDb>, inserted: readonly LifecycleEventRow[]): Promise<void> {
  const alerted = inserted.filter((row) => ALERTED[row.type]);
  if (alerted.length === 0) return;
  const units = [...new Set(alerted.map((row) => row.unit_code))];
  const crossings = await trx
    .selectFrom('lifecycle_event')
    .select(['unit_code', 'country'])
    .distinct()
    .where(sql<boolean>`unit_code = any(${units}::text[])`)
    .where('type', 'in', ['EXPORTED', 'IMPORTED'])
    .where('country', 'is not', null)
    .execute();
  const countries = new Map<string, string[]>();
  for (const { unit_code, country } of crossings) countries.set(unit_code, [...(countries.get(unit_code) ?? []), country!]);
  const alerts: NewAlert[] = alerted
    .sort((a, b) => a.sequence - b.sequence)
    .map((row) => ({
      kind: ALERTED[row.type]!,
      subject: row.unit_code,
      occurredAt: row.occurred_at,
      countries: countries.get(row.unit_code) ?? [],
      facts: { eventId: row.event_id, type: row.type, state: row.state_after, ...(row.country ? { country: row.country } : {}) },
    }));
  await recordCrossings(trx, alerted.filter((row) => row.country !== null).map((row) => ({ unit: row.unit_code, country: row.country! })));
  await enqueueAlerts(trx, alerts);
}
