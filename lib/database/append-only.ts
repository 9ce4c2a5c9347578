import { sql, type Kysely } from 'kysely';

/**
 * Makes a table append-only in the database itself, whoever connects: updates, deletes and truncates
 * raise `<what> are append-only: <OP> refused`. The application never edits these rows, so any attempt
 * is a bug or tampering, and trusting every caller to behave is not enough for a registry.
 * Raw SQL is not rewritten by Kysely's withSchema, hence the explicit schema.
 */
export async function makeAppendOnly(db: Kysely<any>, schema: string, table: string, what: string): Promise<void> {
  const refuse = sql.id(schema, `refuse_${table}_edit`);
  const target = sql.table(`${schema}.${table}`);
  await sql`
    create function ${refuse}() returns trigger language plpgsql as $$
    begin
      raise exception '${sql.raw(what.replace(/'/g, "''"))} are append-only: % refused', tg_op
        using errcode = 'restrict_violation', table = tg_table_name, schema = tg_table_schema;
    end
    $$`.execute(db);
  await sql`create trigger ${sql.id(`${table}_append_only`)} before update or delete on ${target} for each row execute function ${refuse}()`.execute(db);
  await sql`create trigger ${sql.id(`${table}_no_truncate`)} before truncate on ${target} for each statement execute function ${refuse}()`.execute(db);
}

/** For a migration's `down`: dropping the table drops its triggers; the function goes after it. */
export async function dropAppendOnly(db: Kysely<any>, schema: string, table: string): Promise<void> {
  await sql`drop function if exists ${sql.id(schema, `refuse_${table}_edit`)}()`.execute(db);
}
