/**
 * The rules of which lifecycle event may follow which: a pure table, no I/O, so that it can be
 * tested exhaustively and read as the single source of truth (docs/lifecycle.md prints the same
 * table, and a test checks that the two agree cell by cell).
 */

export const UNIT_STATES = [
  'REGISTERED',
  'IN_STOCK',
  'IN_SERVICE',
  'IN_TRANSIT',
  'STOLEN',
  'DECOMMISSIONED',
  'SCRAPPED',
  'RECYCLED',
] as const;
export type UnitState = (typeof UNIT_STATES)[number];

export const LIFECYCLE_EVENT_TYPES = [
  'MANUFACTURED',
  'SOLD',
  'OWNERSHIP_TRANSFERRED',
  'EXPORTED',
  'IMPORTED',
  'DEPLOYED',
  'MAINTAINED',
  'REPAIRED',
  'SOFTWARE_UPDATED',
  'RECALL_REMEDIED',
  'REPORTED_STOLEN',
  'RECOVERED',
  'DECOMMISSIONED',
  'SCRAPPED',
  'RECYCLED',
] as const;
export type LifecycleEventType = (typeof LIFECYCLE_EVENT_TYPES)[number];

/** Why an event may not follow the unit's current state; stable, clients branch on it. */
export type TransitionRule =
  | 'SCRAPPED_IS_FINAL'
  | 'RECYCLED_IS_TERMINAL'
  | 'STOLEN_UNIT'
  | 'ALREADY_STOLEN'
  | 'NOT_STOLEN'
  | 'MANUFACTURED_NOT_FIRST'
  | 'UNIT_IN_TRANSIT'
  | 'ALREADY_IN_TRANSIT'
  | 'NOT_IN_TRANSIT'
  | 'ALREADY_DECOMMISSIONED'
  | 'NOT_SCRAPPED';

/** What the machine remembers about a unit. `stateBeforeTheft` is set exactly while the unit is STOLEN. */
export interface UnitStatus {
  state: UnitState;
  stateBeforeTheft: UnitState | null;
}

export const INITIAL_STATUS: UnitStatus = { state: 'REGISTERED', stateBeforeTheft: null };

/** One cell of the table: a target state, "unchanged", "back to the state before theft", or a refusal. */
export type Transition = UnitState | typeof SAME | typeof BEFORE_THEFT | { refused: TransitionRule };

export const SAME = 'SAME';
export const BEFORE_THEFT = 'BEFORE_THEFT';

const final: { refused: TransitionRule } = { refused: 'SCRAPPED_IS_FINAL' };
const terminal: { refused: TransitionRule } = { refused: 'RECYCLED_IS_TERMINAL' };
const stolen: { refused: TransitionRule } = { refused: 'STOLEN_UNIT' };
const inTransit: { refused: TransitionRule } = { refused: 'UNIT_IN_TRANSIT' };
const notFirst: { refused: TransitionRule } = { refused: 'MANUFACTURED_NOT_FIRST' };
const notInTransit: { refused: TransitionRule } = { refused: 'NOT_IN_TRANSIT' };
const notStolen: { refused: TransitionRule } = { refused: 'NOT_STOLEN' };
const notScrapped: { refused: TransitionRule } = { refused: 'NOT_SCRAPPED' };

/** Service events never move a unit; from REGISTERED they show that it exists (IN_STOCK). */
const service: Record<UnitState, Transition> = {
  REGISTERED: 'IN_STOCK',
  IN_STOCK: SAME,
  IN_SERVICE: SAME,
  IN_TRANSIT: SAME,
  STOLEN: stolen,
  DECOMMISSIONED: SAME,
  SCRAPPED: final,
  RECYCLED: terminal,
};

/** Ownership changes move no unit either: who owns it is not where it is or whether it works. */
const ownership: Record<UnitState, Transition> = { ...service };

/**
 * event → current state → transition. Written event by event because the rules are about events
 * ("a stolen unit cannot be sold"); `Record` over both enums makes a missing cell a compile error.
 */
export const TRANSITIONS: Record<LifecycleEventType, Record<UnitState, Transition>> = {
  MANUFACTURED: {
    REGISTERED: 'IN_STOCK',
    IN_STOCK: notFirst,
    IN_SERVICE: notFirst,
    IN_TRANSIT: notFirst,
    STOLEN: notFirst,
    DECOMMISSIONED: notFirst,
    SCRAPPED: final,
    RECYCLED: terminal,
  },
  SOLD: ownership,
  OWNERSHIP_TRANSFERRED: ownership,
  EXPORTED: {
    REGISTERED: 'IN_TRANSIT',
    IN_STOCK: 'IN_TRANSIT',
    IN_SERVICE: 'IN_TRANSIT',
    IN_TRANSIT: { refused: 'ALREADY_IN_TRANSIT' },
    STOLEN: stolen,
    DECOMMISSIONED: 'IN_TRANSIT',
    SCRAPPED: final,
    RECYCLED: terminal,
  },
  IMPORTED: {
    // A unit made abroad under a home code arrives with no history.
    REGISTERED: 'IN_STOCK',
    IN_STOCK: notInTransit,
    IN_SERVICE: notInTransit,
    IN_TRANSIT: 'IN_STOCK',
    STOLEN: stolen,
    DECOMMISSIONED: notInTransit,
    SCRAPPED: final,
    RECYCLED: terminal,
  },
  DEPLOYED: {
    REGISTERED: 'IN_SERVICE',
    IN_STOCK: 'IN_SERVICE',
    IN_SERVICE: SAME,
    IN_TRANSIT: inTransit,
    STOLEN: stolen,
    DECOMMISSIONED: 'IN_SERVICE',
    SCRAPPED: final,
    RECYCLED: terminal,
  },
  MAINTAINED: service,
  REPAIRED: service,
  SOFTWARE_UPDATED: service,
  RECALL_REMEDIED: service,
  REPORTED_STOLEN: {
    REGISTERED: 'STOLEN',
    IN_STOCK: 'STOLEN',
    IN_SERVICE: 'STOLEN',
    IN_TRANSIT: 'STOLEN',
    STOLEN: { refused: 'ALREADY_STOLEN' },
    DECOMMISSIONED: 'STOLEN',
    SCRAPPED: final,
    RECYCLED: terminal,
  },
  RECOVERED: {
    REGISTERED: notStolen,
    IN_STOCK: notStolen,
    IN_SERVICE: notStolen,
    IN_TRANSIT: notStolen,
    STOLEN: BEFORE_THEFT,
    DECOMMISSIONED: notStolen,
    SCRAPPED: final,
    RECYCLED: terminal,
  },
  DECOMMISSIONED: {
    REGISTERED: 'DECOMMISSIONED',
    IN_STOCK: 'DECOMMISSIONED',
    IN_SERVICE: 'DECOMMISSIONED',
    IN_TRANSIT: inTransit,
    STOLEN: stolen,
    DECOMMISSIONED: { refused: 'ALREADY_DECOMMISSIONED' },
    SCRAPPED: final,
    RECYCLED: terminal,
  },
  SCRAPPED: {
    REGISTERED: 'SCRAPPED',
    IN_STOCK: 'SCRAPPED',
    IN_SERVICE: 'SCRAPPED',
    IN_TRANSIT: inTransit,
    STOLEN: stolen,
    DECOMMISSIONED: 'SCRAPPED',
    SCRAPPED: final,
    RECYCLED: terminal,
  },
  RECYCLED: {
    REGISTERED: notScrapped,
    IN_STOCK: notScrapped,
    IN_SERVICE: notScrapped,
    IN_TRANSIT: notScrapped,
    STOLEN: stolen,
    DECOMMISSIONED: notScrapped,
    SCRAPPED: 'RECYCLED',
    RECYCLED: terminal,
  },
};

export type TransitionResult =
  | { accepted: true; status: UnitStatus }
  | { accepted: false; rule: TransitionRule; message: string };

/** Applies one event to a unit's status. */
export function applyEvent(status: UnitStatus, event: LifecycleEventType): TransitionResult {
  const cell = TRANSITIONS[event][status.state];
  if (typeof cell === 'object') {
    return { accepted: false, rule: cell.refused, message: explain(cell.refused, event, status.state) };
  }
  if (cell === SAME) return { accepted: true, status };
  if (cell === BEFORE_THEFT) {
    // Only reachable from STOLEN, where stateBeforeTheft is always set; IN_STOCK is the safe reading otherwise.
    return { accepted: true, status: { state: status.stateBeforeTheft ?? 'IN_STOCK', stateBeforeTheft: null } };
  }
  if (cell === 'STOLEN') {
    // REGISTERED means "no event yet": a unit that could be stolen evidently exists, so it comes back IN_STOCK.
    const before = status.state === 'REGISTERED' ? 'IN_STOCK' : status.state;
    return { accepted: true, status: { state: 'STOLEN', stateBeforeTheft: before } };
  }
  return { accepted: true, status: { state: cell, stateBeforeTheft: null } };
}

/** Replays a whole history from REGISTERED; the first refusal stops it. */
export function replay(events: readonly LifecycleEventType[]): TransitionResult {
  let status = INITIAL_STATUS;
  for (const event of events) {
    const result = applyEvent(status, event);
    if (!result.accepted) return result;
    status = result.status;
  }
  return { accepted: true, status };
}

function explain(rule: TransitionRule, event: LifecycleEventType, state: UnitState): string {
  const prefix = `${event} refused: the unit is ${state}`;
  switch (rule) {
    case 'SCRAPPED_IS_FINAL':
      return `${prefix}; a scrapped unit is final for the market and only RECYCLED may follow`;
    case 'RECYCLED_IS_TERMINAL':
      return `${prefix}; RECYCLED is terminal and no event may follow`;
    case 'STOLEN_UNIT':
      return `${prefix}; a stolen unit accepts only RECOVERED`;
    case 'ALREADY_STOLEN':
      return `${prefix}; it is already reported stolen`;
    case 'NOT_STOLEN':
      return `${prefix}; only a STOLEN unit can be recovered`;
    case 'MANUFACTURED_NOT_FIRST':
      return `${prefix}; MANUFACTURED must be the unit's first event`;
    case 'UNIT_IN_TRANSIT':
      return `${prefix}; record IMPORTED first`;
    case 'ALREADY_IN_TRANSIT':
      return `${prefix}; it was exported and not yet imported`;
    case 'NOT_IN_TRANSIT':
      return `${prefix}; only a unit in transit (exported) or with no history can be imported`;
    case 'ALREADY_DECOMMISSIONED':
      return `${prefix}; it is already decommissioned`;
    case 'NOT_SCRAPPED':
      return `${prefix}; only a SCRAPPED unit can be recycled`;
  }
}
