import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../lib/schema/contract.js';
import {
  applyEvent,
  INITIAL_STATUS,
  LIFECYCLE_EVENT_TYPES,
  replay,
  UNIT_STATES,
  type LifecycleEventType,
  type UnitState,
  type UnitStatus,
} from '../subgraphs/lifecycle/state-machine.js';

/** The transition table as printed in docs/lifecycle.md: event → state → cell text. */
function documentedTable(): Map<string, Map<string, string>> {
  const doc = readFileSync(`${repoRoot()}/docs/lifecycle.md`, 'utf8');
  const lines = doc.split('\n');
  const headerAt = lines.findIndex((line) => line.startsWith('| event \\ state |'));
  expect(headerAt, 'transition table header in docs/lifecycle.md').toBeGreaterThan(-1);
  const cells = (line: string) => line.split('|').slice(1, -1).map((cell) => cell.trim());
  const states = cells(lines[headerAt]!).slice(1);
  const table = new Map<string, Map<string, string>>();
  for (const line of lines.slice(headerAt + 2)) {
    if (!line.startsWith('|')) break;
    const [event, ...row] = cells(line);
    expect(row).toHaveLength(states.length);
    table.set(event!, new Map(states.map((state, i) => [state, row[i]!])));
  }
  return table;
}

/** A status in the given state, with a plausible remembered state when it is STOLEN. */
function statusIn(state: UnitState, stateBeforeTheft: UnitState = 'IN_SERVICE'): UnitStatus {
  return { state, stateBeforeTheft: state === 'STOLEN' ? stateBeforeTheft : null };
}

function describeOutcome(status: UnitStatus, event: LifecycleEventType): string {
  const result = applyEvent(status, event);
  if (!result.accepted) return `✗ ${result.rule}`;
  if (status.state === 'STOLEN' && result.status.state === status.stateBeforeTheft) return '↩';
  if (result.status.state === status.state) return '=';
  return result.status.state;
}

describe('lifecycle state machine', () => {
  const table = documentedTable();

  it('documents every event and every state, and nothing else', () => {
    expect([...table.keys()].sort()).toEqual([...LIFECYCLE_EVENT_TYPES].sort());
    for (const row of table.values()) expect([...row.keys()].sort()).toEqual([...UNIT_STATES].sort());
  });

  describe.each(LIFECYCLE_EVENT_TYPES)('%s', (event) => {
    it.each(UNIT_STATES)('from %s matches the documented table', (state) => {
      expect(describeOutcome(statusIn(state), event)).toBe(table.get(event)!.get(state));
    });
  });

  it('refusals name the rule, the event and the state', () => {
    const result = applyEvent(statusIn('SCRAPPED'), 'SOLD');
    expect(result).toMatchObject({ accepted: false, rule: 'SCRAPPED_IS_FINAL' });
    if (!result.accepted) expect(result.message).toMatch(/SOLD refused: the unit is SCRAPPED/);
  });

  it('RECOVERED returns to whatever state the unit had before the theft', () => {
    for (const before of ['IN_STOCK', 'IN_SERVICE', 'IN_TRANSIT', 'DECOMMISSIONED'] as const) {
      const stolen = applyEvent(statusIn(before), 'REPORTED_STOLEN');
      expect(stolen).toEqual({ accepted: true, status: { state: 'STOLEN', stateBeforeTheft: before } });
      if (!stolen.accepted) continue;
      expect(applyEvent(stolen.status, 'RECOVERED')).toEqual({ accepted: true, status: { state: before, stateBeforeTheft: null } });
    }
    // A unit with no history that is stolen evidently exists: it comes back in stock, not "no event yet".
    expect(replay(['REPORTED_STOLEN', 'RECOVERED'])).toEqual({ accepted: true, status: { state: 'IN_STOCK', stateBeforeTheft: null } });
  });

  it('walks a typical life: made, sold, exported, imported, deployed, stolen, recovered, scrapped, recycled', () => {
    const life: LifecycleEventType[] = ['MANUFACTURED', 'SOLD', 'EXPORTED', 'IMPORTED', 'DEPLOYED', 'REPAIRED', 'REPORTED_STOLEN', 'RECOVERED', 'DECOMMISSIONED', 'SCRAPPED', 'RECYCLED'];
    expect(replay(life)).toEqual({ accepted: true, status: { state: 'RECYCLED', stateBeforeTheft: null } });
  });

  describe('invariants over random histories', () => {
    const events = fc.array(fc.constantFrom(...LIFECYCLE_EVENT_TYPES), { maxLength: 40 });

    /** Applies what the machine accepts, skipping refusals, like a registry receiving noisy reports. */
    function accepted(history: LifecycleEventType[]): { status: UnitStatus; applied: LifecycleEventType[]; states: UnitState[] } {
      let status = INITIAL_STATUS;
      const applied: LifecycleEventType[] = [];
      const states: UnitState[] = [];
      for (const event of history) {
        const result = applyEvent(status, event);
        if (!result.accepted) continue;
        status = result.status;
        applied.push(event);
        states.push(status.state);
      }
      return { status, applied, states };
    }

    it('after SCRAPPED only RECYCLED is ever accepted, and after RECYCLED nothing', () => {
      fc.assert(
        fc.property(events, (history) => {
          const { applied } = accepted(history);
          const scrapped = applied.indexOf('SCRAPPED');
          if (scrapped >= 0) expect(applied.slice(scrapped + 1).every((e) => e === 'RECYCLED')).toBe(true);
          const recycled = applied.indexOf('RECYCLED');
          if (recycled >= 0) expect(recycled).toBe(applied.length - 1);
        }),
      );
    });

    it('a stolen unit is never sold, transferred or exported before RECOVERED', () => {
      fc.assert(
        fc.property(events, (history) => {
          const { applied } = accepted(history);
          let stolen = false;
          for (const event of applied) {
            if (event === 'REPORTED_STOLEN') stolen = true;
            if (event === 'RECOVERED') stolen = false;
            if (stolen) expect(['SOLD', 'OWNERSHIP_TRANSFERRED', 'EXPORTED']).not.toContain(event);
          }
        }),
      );
    });

    it('REGISTERED means no event yet; MANUFACTURED can only come first; the theft memory is set exactly while STOLEN', () => {
      fc.assert(
        fc.property(events, (history) => {
          const { applied, states } = accepted(history);
          expect(states).not.toContain('REGISTERED');
          expect(applied.indexOf('MANUFACTURED')).toBeLessThanOrEqual(0);
          let status = INITIAL_STATUS;
          for (const event of applied) {
            const result = applyEvent(status, event);
            if (!result.accepted) throw new Error('replay of accepted events refused');
            status = result.status;
            expect(status.stateBeforeTheft !== null).toBe(status.state === 'STOLEN');
            expect(status.stateBeforeTheft).not.toBe('STOLEN');
          }
        }),
      );
    });

    it('never mutates the status it is given (INITIAL_STATUS is shared)', () => {
      fc.assert(
        fc.property(fc.constantFrom(...UNIT_STATES), fc.constantFrom(...LIFECYCLE_EVENT_TYPES), (state, event) => {
          const status = Object.freeze(statusIn(state));
          applyEvent(status, event);
          expect(status).toEqual(statusIn(state));
        }),
      );
      expect(INITIAL_STATUS).toEqual({ state: 'REGISTERED', stateBeforeTheft: null });
    });
  });
});
