import DataLoader from 'dataloader';

/**
 * A per-request loader that turns every key requested in one tick into a single statement.
 * No maxBatchSize: the contract is one statement per batch whatever its size (the statements use
 * `= any(array)`, one parameter however many keys).
 */
export function keyedLoader<Row>(
  fetchRows: (keys: readonly string[]) => Promise<Row[]>,
  keyOf: (row: Row) => string,
): DataLoader<string, Row | null> {
  return new DataLoader<string, Row | null>(async (keys) => {
    const rows = await fetchRows(keys);
    const byKey = new Map(rows.map((row) => [keyOf(row), row]));
    return keys.map((key) => byKey.get(key) ?? null);
  });
}

/** A per-request loader for values keyed by string (counts, states), defaulting where no row exists. */
export function groupedLoader<Value>(
  fetch: (keys: readonly string[]) => Promise<Map<string, Value>>,
  fallback: Value,
): DataLoader<string, Value> {
  return new DataLoader<string, Value>(async (keys) => {
    const found = await fetch(keys);
    return keys.map((key) => found.get(key) ?? fallback);
  });
}

export interface PageRequest {
  parent: string;
  after: string | null;
  /** Rows to fetch (page size + 1, so hasNextPage needs no extra query). */
  limit: number;
}

/**
 * One page of children for each of many parents (models of many enterprises, units of many models)
 * in one statement. Requests are grouped so that within a group every parent appears once and all
 * share a limit; in practice a batch is one group, since it comes from one field of one query.
 */
export function pageLoader<Row>(
  fetchPages: (requests: readonly { parent: string; after: string | null }[], limit: number) => Promise<Row[]>,
  parentOf: (row: Row) => string,
): DataLoader<PageRequest, Row[], string> {
  return new DataLoader<PageRequest, Row[], string>(
    async (requests) => {
      const groups: { limit: number; byParent: Map<string, PageRequest> }[] = [];
      for (const request of requests) {
        let group = groups.find((g) => g.limit === request.limit && !g.byParent.has(request.parent));
        if (!group) groups.push((group = { limit: request.limit, byParent: new Map() }));
        group.byParent.set(request.parent, request);
      }
      const pages = new Map<string, Row[]>(requests.map((r) => [pageKey(r), []]));
      await Promise.all(
        groups.map(async ({ limit, byParent }) => {
          const rows = await fetchPages([...byParent.values()], limit);
          for (const row of rows) {
            const request = byParent.get(parentOf(row));
            if (request) pages.get(pageKey(request))!.push(row);
          }
        }),
      );
      return requests.map((request) => pages.get(pageKey(request))!);
    },
    { cacheKeyFn: pageKey },
  );
}

function pageKey(request: PageRequest): string {
  return `${request.limit}|${request.after ?? ''}|${request.parent}`;
}
