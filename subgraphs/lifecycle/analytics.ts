/**
 * Pure helpers of the analysts' fields on Registry and Unit.events: filter checks, month ranges and
 * state counts. The statements behind them are in lifecycle-repository.ts.
 */
import { registryError } from '../../lib/errors.js';
import { decodeCursor } from '../../lib/subgraph/pagination.js';
import type { EventFilter } from './lifecycle-repository.js';
import { UNIT_STATES, type UnitState } from './state-machine.js';

/** eventsPerMonth answers at most this many months (ten years); a wider range is LIMIT_EXCEEDED. */
export const MAX_MONTHS = 120;

/**
 * The filter as given, or null when it restricts nothing (then the unfiltered, cheaper reads apply).
 * A range that ends before it starts is refused: it is empty by construction, so surely a mistake.
 */
export function readEventFilter(filter: EventFilter | null | undefined): EventFilter | null {
  if (!filter) return null;
  const { types, occurredFrom, occurredBefore } = filter;
  if (occurredFrom && occurredBefore && occurredFrom.getTime() > occurredBefore.getTime()) {
    throw registryError(
      'BAD_USER_INPUT',
      `occurredFrom (${occurredFrom.toISOString()}) is after occurredBefore (${occurredBefore.toISOString()})`,
    );
  }
  if (!types && !occurredFrom && !occurredBefore) return null;
  return { types: types ? [...new Set(types)] : null, occurredFrom: occurredFrom ?? null, occurredBefore: occurredBefore ?? null };
}

/**
 * Months from `from` (its month) to `before` (the month of its last instant), both optional: a missing
 * start is the month of the first counted event, a missing end the later of the current month and
 * the month of the last counted event. Every month in between is listed, zeros included.
 */
export function monthlySeries(
  counted: readonly { month: string; count: number }[],
  from: Date | null,
  before: Date | null,
  now: Date,
): { month: string; count: number }[] {
  const first = from ? monthIndex(from) : counted[0] ? parseMonth(counted[0].month) : null;
  if (first === null) return [];
  const lastCounted = counted.at(-1);
  const last = before
    ? monthIndex(new Date(before.getTime() - 1))
    : Math.max(monthIndex(now), lastCounted ? parseMonth(lastCounted.month) : -Infinity);
  if (last < first) return [];
  assertMonthSpan(first, last);
  const counts = new Map(counted.map((c) => [c.month, c.count]));
  const series: { month: string; count: number }[] = [];
  for (let index = first; index <= last; index++) {
    const month = formatMonth(index);
    series.push({ month, count: counts.get(month) ?? 0 });
  }
  return series;
}

/** Refuses an explicit range over MAX_MONTHS before anything is read. */
export function assertMonthRange(from: Date | null, before: Date | null): void {
  if (from && before && before.getTime() > from.getTime()) assertMonthSpan(monthIndex(from), monthIndex(new Date(before.getTime() - 1)));
}

function assertMonthSpan(first: number, last: number): void {
  const months = last - first + 1;
  if (months > MAX_MONTHS) {
    throw registryError(
      'LIMIT_EXCEEDED',
      `eventsPerMonth answers at most ${MAX_MONTHS} months, this range has ${months} (${formatMonth(first)} to ${formatMonth(last)}); narrow it with from and before`,
      { max: MAX_MONTHS },
    );
  }
}

/** Every state in enum order, zeros included; REGISTERED counts registered units with no events too. */
export function stateCounts(unitCount: number, counted: ReadonlyMap<UnitState, number>): { state: UnitState; count: number }[] {
  let withEvents = 0;
  for (const [state, count] of counted) if (state !== 'REGISTERED') withEvents += count;
  return UNIT_STATES.map((state) => ({
    state,
    // Units of the registry not out of REGISTERED here; never negative if the two sources disagree a moment.
    count: state === 'REGISTERED' ? Math.max(0, unitCount - withEvents) : (counted.get(state) ?? 0),
  }));
}

/** A cursor whose position is a positive integer below `max` (a sequence or a log position). */
export function readIntegerCursor(after: string | null | undefined, max: number): number {
  const position = decodeCursor(after);
  if (position === null) return 0;
  if (!/^[1-9]\d{0,15}$/.test(position) || Number(position) > max) {
    throw registryError('BAD_USER_INPUT', `after is not a cursor returned by this field: ${JSON.stringify(after)}`);
  }
  return Number(position);
}

/** A cursor whose position is a unit code. */
export function readCodeCursor(after: string | null | undefined): string | null {
  const position = decodeCursor(after);
  if (position !== null && !/^[0-9A-Z]{29}$/.test(position)) {
    throw registryError('BAD_USER_INPUT', `after is not a cursor returned by this field: ${JSON.stringify(after)}`);
  }
  return position;
}

function monthIndex(date: Date): number {
  return date.getUTCFullYear() * 12 + date.getUTCMonth();
}

function parseMonth(month: string): number {
  return Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7)) - 1;
}

function formatMonth(index: number): string {
  return `${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}`;
}
