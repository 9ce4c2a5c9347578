import { registryError } from '../errors.js';

/** The largest page any list field returns; a bigger `first` is an error, not a silent cap. */
export const MAX_PAGE_SIZE = 500;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

export function pageLimit(first: number | null | undefined, fallback = 50): number {
  const limit = first ?? fallback;
  if (!Number.isInteger(limit) || limit < 0) {
    throw registryError('BAD_USER_INPUT', `first must be between 0 and ${MAX_PAGE_SIZE}, got ${limit}`);
  }
  if (limit > MAX_PAGE_SIZE) {
    throw registryError('LIMIT_EXCEEDED', `first must be at most ${MAX_PAGE_SIZE}, got ${limit}`, { max: MAX_PAGE_SIZE });
  }
  return limit;
}

/** Cursors are opaque to clients but are plain keyset positions underneath (stable under inserts). */
export function encodeCursor(position: string): string {
  return Buffer.from(position, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined): string | null {
  if (cursor === null || cursor === undefined) return null;
  const position = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!cursor || cursor.length > 200 || encodeCursor(position) !== cursor) {
    throw registryError('BAD_USER_INPUT', `after is not a cursor returned by this field: ${JSON.stringify(cursor.slice(0, 50))}`);
  }
  return position;
}

/** Builds a connection from rows fetched with limit + 1, so hasNextPage costs no extra query. */
export function toPage<T>(rows: T[], limit: number, positionOf: (row: T) => string, totalCount: number): Page<T> {
  const nodes = rows.slice(0, limit);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(positionOf(node)), node }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > limit, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount,
  };
}

/** Where one connection's rows and total come from; rows are asked for with limit + 1. */
export interface PageSource<Row, Position> {
  rows(after: Position, limit: number): Promise<Row[]>;
  count(): Promise<number>;
  /** The keyset position a row's cursor encodes. */
  position(row: Row): string;
}

/** The page resolver every list field shares: checks first and after, reads rows and total at once. */
export function resolvePage<Row>(args: PageArgs, source: PageSource<Row, string | null>): Promise<Page<Row>>;
export function resolvePage<Row, Position>(
  args: PageArgs,
  source: PageSource<Row, NoInfer<Position>>,
  readCursor: (cursor: string | null | undefined) => Position,
): Promise<Page<Row>>;
export async function resolvePage<Row, Position>(
  args: PageArgs,
  source: PageSource<Row, Position>,
  readCursor: (cursor: string | null | undefined) => Position = decodeCursor as (cursor: string | null | undefined) => Position,
): Promise<Page<Row>> {
  const limit = pageLimit(args.first);
  const after = readCursor(args.after);
  const [rows, total] = await Promise.all([source.rows(after, limit + 1), source.count()]);
  return toPage(rows, limit, source.position, total);
}

/**
 * A page source over a list already in memory (a unit's provenance, an entity's status changes: short
 * lists loaded whole, batched, by a DataLoader). The cursor is the position of the last item returned;
 * a position no longer in the list is refused like any foreign cursor.
 */
export function listPageSource<T>(items: readonly T[], position: (item: T) => string): PageSource<T, string | null> {
  return {
    async rows(after, limit) {
      let start = 0;
      if (after !== null) {
        const index = items.findIndex((item) => position(item) === after);
        if (index < 0) throw registryError('BAD_USER_INPUT', 'after is not a cursor returned by this field');
        start = index + 1;
      }
      return items.slice(start, start + limit);
    },
    count: async () => items.length,
    position,
  };
}
