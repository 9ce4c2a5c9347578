import type { Database } from '../database/database.js';
import { migrateSchema } from '../database/migrate.js';
import { alertsMigrations } from './alerts-migrations.js';
import { ALERTS_SCHEMA, type AlertsDb } from './alerts-table.js';

/** Creates or updates the alerts schema; the node runs it before any subgraph that writes the outbox starts. */
export async function migrateAlerts(database: Database) {
  const db = database.forSchema<AlertsDb>(ALERTS_SCHEMA);
  await migrateSchema(db, ALERTS_SCHEMA, alertsMigrations);
  return db;
}
