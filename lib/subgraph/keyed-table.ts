import { sql, type Kysely, type Selectable, type SelectType } from 'kysely';
import { resolvePage, type Page, type PageArgs } from './pagination.js';

/**
 * The statements every subgraph repeats over its own tables (rows by key, keyset lists, counts, one
 * page per parent), written once. Each is one statement whatever the number of keys (`= any(array)`).
 */
export type TableName<DB> = keyof DB & string;

/** Columns of a table whose values read as text: codes and other keys. */
export type TextColumn<DB, T extends TableName<DB>> = {
  [C in keyof DB[T] & string]: SelectType<DB[T][C]> extends string ? C : never;
}[keyof DB[T] & string];

export type RowOf<DB, T extends TableName<DB>> = Selectable<DB[T]>;

/** A table whose rows are ordered and paged by a text key (their code). */
export interface KeyedTable<DB, T extends TableName<DB>> {
  /** The Postgres schema: raw SQL is not rewritten by Kysely's withSchema. */
  schema: string;
  table: T;
  key: TextColumn<DB, T>;
}

/** Rows where `column = value`. */
export interface Equals<DB, T extends TableName<DB>> {
  column: TextColumn<DB, T>;
  value: string;
}

// Kysely cannot type a query over a table chosen by a type parameter; the signatures above keep
// callers typed, so the untyped builder stays inside lib/subgraph.
export function untyped<DB>(db: Kysely<DB>): Kysely<any> {
  return db as unknown as Kysely<any>;
}

const countAll = sql<string | number>`count(*)`.as('n');
const anyOf = (column: string, keys: readonly string[]) => sql<boolean>`${sql.ref(column)} = any(${[...keys]}::text[])`;

/** Rows whose `column` (by default the key) is any of `keys`, in no particular order. */
export async function findByKeys<DB, T extends TableName<DB>>(
  db: Kysely<DB>,
  table: KeyedTable<DB, T>,
  keys: readonly string[],
  column: TextColumn<DB, T> = table.key,
): Promise<RowOf<DB, T>[]> {
  const rows = await untyped(db).selectFrom(table.table as string).selectAll().where(anyOf(column, keys)).execute();
  return rows as RowOf<DB, T>[];
}

/** Up to `limit` rows matching `where`, by key, after the keyset position `after`. */
export async function listAfter<DB, T extends TableName<DB>>(
  db: Kysely<DB>,
  table: KeyedTable<DB, T>,
  where: Equals<DB, T>,
  after: string | null,
  limit: number,
): Promise<RowOf<DB, T>[]> {
  const key: string = table.key;
  let query = untyped(db).selectFrom(table.table as string).selectAll().where(where.column as string, '=', where.value);
  if (after !== null) query = query.where(key, '>', after);
  const rows = await query.orderBy(key).limit(limit).execute();
  return rows as RowOf<DB, T>[];
}

export async function countWhere<DB, T extends TableName<DB>>(db: Kysely<DB>, table: KeyedTable<DB, T>, where: Equals<DB, T>): Promise<number> {
  const row = await untyped(db)
    .selectFrom(table.table as string)
    .select(countAll)
    .where(where.column as string, '=', where.value)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Row counts per value of `column` among `keys`; keys with no rows are absent. */
export async function countPerKey<DB, T extends TableName<DB>>(
  db: Kysely<DB>,
  table: KeyedTable<DB, T>,
  column: TextColumn<DB, T>,
  keys: readonly string[],
): Promise<Map<string, number>> {
  const rows = await untyped(db)
    .selectFrom(table.table as string)
    .select([sql<string>`${sql.ref(column)}`.as('key'), countAll])
    .where(anyOf(column, keys))
    .groupBy(column as string)
    .execute();
  return new Map(rows.map((r: { key: string; n: string | number }): [string, number] => [r.key, Number(r.n)]));
}

/**
 * One page of rows (by key, after each request's position) for each of many parents, in ONE
 * statement: a lateral join over the requested parents, so a batch of parents is not an N+1.
 */
export async function pagePerParent<DB, T extends TableName<DB>>(
  db: Kysely<DB>,
  table: KeyedTable<DB, T>,
  parent: TextColumn<DB, T>,
  requests: readonly { parent: string; after: string | null }[],
  limit: number,
): Promise<RowOf<DB, T>[]> {
  const parents = requests.map((r) => r.parent);
  const afters = requests.map((r) => r.after ?? '');
  const result = await sql<RowOf<DB, T>>`
    select p.* from unnest(${parents}::text[], ${afters}::text[]) as k(parent, after)
    cross join lateral (
      select * from ${sql.table(`${table.schema}.${table.table}`)} t
      where ${sql.ref(`t.${parent}`)} = k.parent and ${sql.ref(`t.${table.key}`)} > k.after
      order by ${sql.ref(`t.${table.key}`)} limit ${limit}
    ) p`.execute(db);
  return result.rows;
}

/** A list field over one table's rows matching `where` (Registry.enterprises, Registry.productModels). */
export function resolveTablePage<DB, T extends TableName<DB>>(
  db: Kysely<DB>,
  table: KeyedTable<DB, T>,
  where: Equals<DB, T>,
  args: PageArgs,
): Promise<Page<RowOf<DB, T>>> {
  return resolvePage(args, {
    rows: (after, limit) => listAfter(db, table, where, after, limit),
    count: () => countWhere(db, table, where),
    position: (row) => String((row as Record<string, unknown>)[table.key]),
  });
}
