/**
 * Generates the units of a run in code order, in batches of rows ready for the writers: the units
 * subgraph's `unit` rows, and the lifecycle subgraph's events and `unit_state` rows. Stolen and
 * scrapped units are drawn by selection sampling, so their counts are exact and need no shuffle.
 */
import type { UnitState } from '../../subgraphs/lifecycle/state-machine.js';
import { serial, type SeedModel } from './catalogue.js';
import { generateHistory, type Fate } from './histories.js';
import type { Random } from './random.js';

/** Column arrays, one entry per row; times as ISO strings (both writers send text). */
export interface UnitBatch {
  units: { code: string[]; registeredAt: string[] };
  states: { unitCode: string[]; state: UnitState[]; stateBeforeTheft: (UnitState | null)[]; lastSequence: number[]; manufacturedAt: (string | null)[] };
  events: {
    eventId: string[];
    unitCode: string[];
    type: string[];
    occurredAt: string[];
    sequence: number[];
    stateAfter: UnitState[];
    owner: (string | null)[];
    country: (string | null)[];
  };
  /** Units per state after this batch (REGISTERED: no events). */
  stateCounts: Map<UnitState, number>;
}

export interface BatchOptions {
  random: Random;
  models: readonly SeedModel[];
  home: string;
  eventsPerUnit: number;
  stolen: number;
  scrapped: number;
  batchSize: number;
  /** Registrations spread over [from, to); events up to `to`. */
  from: Date;
  to: Date;
}

export function* unitBatches(options: BatchOptions): Generator<UnitBatch> {
  const { random, models, home, eventsPerUnit, batchSize } = options;
  let left = models.reduce((sum, m) => sum + m.unitCount, 0);
  let stolenLeft = options.stolen;
  let scrappedLeft = options.scrapped;
  const span = options.to.getTime() - options.from.getTime();
  let batch = emptyBatch();
  for (const model of models) {
    for (let k = 0; k < model.unitCount; k++) {
      const code = model.code + serial(model.firstSerial + k);
      // Selection sampling: each unit takes a fate with probability (still to give) / (units left).
      const draw = random.next() * left;
      const fate: Fate = draw < stolenLeft ? 'STOLEN' : draw < stolenLeft + scrappedLeft ? 'SCRAPPED' : 'ORDINARY';
      if (fate === 'STOLEN') stolenLeft--;
      if (fate === 'SCRAPPED') scrappedLeft--;
      left--;
      // Registrations rise with the serial within a model, as a manufacturer's would.
      const registeredAt = new Date(options.from.getTime() + Math.floor(span * ((k + random.next()) / model.unitCount) * 0.98));
      const history = generateHistory(random, { eventCount: eventsPerUnit, fate, manufacturedAt: registeredAt, latest: options.to, home });
      batch.units.code.push(code);
      batch.units.registeredAt.push(registeredAt.toISOString());
      count(batch.stateCounts, history.status.state);
      if (history.events.length > 0) {
        const s = batch.states;
        s.unitCode.push(code);
        s.state.push(history.status.state);
        s.stateBeforeTheft.push(history.status.stateBeforeTheft);
        s.lastSequence.push(history.events.length);
        s.manufacturedAt.push(history.manufacturedAt?.toISOString() ?? null);
      }
      // state_after of each event is the fold so far: replay the walk's states.
      let sequence = 0;
      for (const event of history.events) {
        sequence++;
        const e = batch.events;
        e.eventId.push(`${code}:${sequence}`);
        e.unitCode.push(code);
        e.type.push(event.type);
        e.occurredAt.push(event.occurredAt.toISOString());
        e.sequence.push(sequence);
        e.stateAfter.push(event.stateAfter);
        e.owner.push(event.owner);
        e.country.push(event.country);
      }
      if (batch.units.code.length >= batchSize) {
        yield batch;
        batch = emptyBatch();
      }
    }
  }
  if (batch.units.code.length > 0) yield batch;
}

function count(counts: Map<UnitState, number>, state: UnitState): void {
  counts.set(state, (counts.get(state) ?? 0) + 1);
}

function emptyBatch(): UnitBatch {
  return {
    units: { code: [], registeredAt: [] },
    states: { unitCode: [], state: [], stateBeforeTheft: [], lastSequence: [], manufacturedAt: [] },
    events: { eventId: [], unitCode: [], type: [], occurredAt: [], sequence: [], stateAfter: [], owner: [], country: [] },
    stateCounts: new Map(),
  };
}
