// Per-subgraph migrations: each subgraph's migrations and its Kysely
// bookkeeping tables (kysely_migration, kysely_migration_lock) live inside
// its own Postgres schema.
//
// Concurrency: kysely's Migrator creates the schema and its tables with
// "if not exists" and re-checks on a lost race, then runs the pending
// migrations in one transaction while holding a Postgres advisory lock, so two
// processes migrating the same database apply each migration exactly once.
// On Postgres the waiting side is bounded by statement_timeout (15s).
// On PGlite the Migrator holds the session for the whole run, so a migration's
// up() must only use the `db` it is given.
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';

export async function migrateSchema(
  db: Kysely<any>,
  schema: string,
  migrations: Record<string, Migration>,
): Promise<void> {
  // An in-code provider (not FileMigrationProvider) so compiled output works
  // without locating migration files at runtime.
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  // `migrationTableSchema` also makes the Migrator create the schema when missing.
  // `db` may already be forSchema(schema): the schema plugins then agree.
  const migrator = new Migrator({ db, provider, migrationTableSchema: schema });
  const { error, results } = await migrator.migrateToLatest();
  if (error === undefined) return;

  const failed = results?.find((result) => result.status === 'Error');
  const what = failed ? `migration ${failed.migrationName}` : 'migration setup';
  const cause = error instanceof Error ? error.message : String(error);
  throw new Error(`Schema "${schema}": ${what} failed: ${cause}`, { cause: error });
}
