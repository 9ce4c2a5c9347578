/**
 * Lifecycle histories for generated units, walked through the API's own state machine: every event is
 * applied with `applyEvent`, and a refusal is a bug of this generator, never a row written. The fate of
 * a unit (stolen, scrapped, or an ordinary life) is decided by the caller, so the shares are exact.
 */
import { applyEvent, INITIAL_STATUS, type LifecycleEventType, type UnitState, type UnitStatus } from '../../subgraphs/lifecycle/state-machine.js';
import type { Random } from './random.js';

export type Fate = 'ORDINARY' | 'STOLEN' | 'SCRAPPED';

export interface GeneratedEvent {
  type: LifecycleEventType;
  /** The unit's state once this event is applied. */
  stateAfter: UnitState;
  occurredAt: Date;
  owner: string | null;
  country: string | null;
}

export interface GeneratedHistory {
  events: GeneratedEvent[];
  /** The state machine's fold of `events`: what `recordEvents` would have stored in unit_state. */
  status: UnitStatus;
  manufacturedAt: Date | null;
}

/** Countries a unit may be exported to (the home country is skipped). */
const ABROAD = ['DE', 'FR', 'US', 'JP', 'KR', 'GB', 'IN', 'BR', 'IT', 'SG'];

/** How often each event is tried in an ordinary life; refused tries are drawn again. */
const ORDINARY_WEIGHTS: readonly (readonly [LifecycleEventType, number])[] = [
  ['DEPLOYED', 20],
  ['MAINTAINED', 20],
  ['SOFTWARE_UPDATED', 15],
  ['SOLD', 15],
  ['REPAIRED', 8],
  ['OWNERSHIP_TRANSFERRED', 5],
  ['EXPORTED', 4],
  ['IMPORTED', 30], // only accepted in transit: most exported units come back
  ['DECOMMISSIONED', 3],
  ['REPORTED_STOLEN', 1],
  ['RECOVERED', 60], // only accepted when stolen: most stolen units are found again
];
const MAX_TRIES = 50;

/**
 * One unit's history: MANUFACTURED, then ordinary events, then (for a stolen or scrapped unit) the
 * event that gives it its fate. Times rise from `manufacturedAt` to `latest`.
 */
export function generateHistory(
  random: Random,
  options: { eventCount: number; fate: Fate; manufacturedAt: Date; latest: Date; home: string },
): GeneratedHistory {
  const { eventCount, fate, home } = options;
  if (eventCount === 0) {
    if (fate !== 'ORDINARY') throw new Error(`a ${fate.toLowerCase()} unit needs at least two events`);
    return { events: [], status: INITIAL_STATUS, manufacturedAt: null };
  }
  if (fate !== 'ORDINARY' && eventCount < 2) throw new Error(`a ${fate.toLowerCase()} unit needs at least two events`);
  const times = eventTimes(random, eventCount, options.manufacturedAt, options.latest);
  const types: LifecycleEventType[] = ['MANUFACTURED'];
  let status = apply(INITIAL_STATUS, 'MANUFACTURED');
  const states: UnitState[] = [status.state];
  const ordinary = fate === 'ORDINARY' ? eventCount - 1 : eventCount - 2;
  for (let i = 0; i < ordinary; i++) {
    const last = i === ordinary - 1;
    const type = nextOrdinary(random, status, last, fate);
    status = apply(status, type);
    types.push(type);
    states.push(status.state);
  }
  if (fate !== 'ORDINARY') {
    const type = fate === 'STOLEN' ? 'REPORTED_STOLEN' : 'SCRAPPED';
    status = apply(status, type);
    types.push(type);
    states.push(status.state);
  }

  let abroad: string | null = null;
  const events = types.map((type, i): GeneratedEvent => {
    let country: string | null = null;
    if (type === 'EXPORTED') {
      abroad = pickAbroad(random, home);
      country = abroad;
    } else if (type === 'IMPORTED') {
      country = abroad ?? pickAbroad(random, home); // back from where it went
    }
    const owner = type === 'SOLD' || type === 'OWNERSHIP_TRANSFERRED' ? `owner-${random.below(2 ** 31).toString(36)}` : null;
    return { type, stateAfter: states[i]!, occurredAt: times[i]!, owner, country };
  });
  return { events, status, manufacturedAt: times[0]! };
}

/**
 * An ordinary event the machine accepts now. The last ordinary event must leave the unit able to take
 * its fate: an ordinary unit does not end stolen (its share would drift), a scrapped one not in transit.
 */
function nextOrdinary(random: Random, status: UnitStatus, last: boolean, fate: Fate): LifecycleEventType {
  const fits = (type: LifecycleEventType): boolean => {
    const result = applyEvent(status, type);
    if (!result.accepted) return false;
    if (!last) return true;
    if (fate === 'ORDINARY') return result.status.state !== 'STOLEN';
    return applyEvent(result.status, fate === 'STOLEN' ? 'REPORTED_STOLEN' : 'SCRAPPED').accepted;
  };
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    const type = random.weighted(ORDINARY_WEIGHTS);
    if (fits(type)) return type;
  }
  // Rare: every draw was refused. One of these always fits (from STOLEN, IN_TRANSIT or anywhere else).
  const fallback = (['RECOVERED', 'IMPORTED', 'MAINTAINED'] as const).find(fits);
  if (!fallback) throw new Error(`seed generator bug: no ordinary event fits a ${status.state} unit`);
  return fallback;
}

function apply(status: UnitStatus, type: LifecycleEventType): UnitStatus {
  const result = applyEvent(status, type);
  if (!result.accepted) throw new Error(`seed generator bug: ${result.message}`);
  return result.status;
}

/** `count` rising instants, the first at `from`, the others spread up to `latest`. */
function eventTimes(random: Random, count: number, from: Date, latest: Date): Date[] {
  const start = from.getTime();
  const span = Math.max(0, latest.getTime() - start);
  const offsets = Array.from({ length: count - 1 }, () => Math.floor(random.next() * span)).sort((a, b) => a - b);
  return [from, ...offsets.map((offset) => new Date(start + offset))];
}

function pickAbroad(random: Random, home: string): string {
  const choices = ABROAD.filter((c) => c !== home);
  return choices[random.below(choices.length)]!;
}
