import { GraphQLError } from 'graphql';
import type { Insertable, Kysely } from 'kysely';
import { registryError, type RegistryErrorCode } from '../../lib/errors.js';
import type { RequestContext } from '../../lib/server/request-context.js';
import { readHomeCode } from '../../lib/subgraph/codes.js';
import { findByKeys } from '../../lib/subgraph/keyed-table.js';
import type { SubgraphDeps } from '../../lib/subgraph/subgraph-module.js';
import { readEventDetails, sameDetails, unknownRecall, type DetailRule, type EventDetails } from './event-details.js';
import { enqueueLifecycleAlerts } from './lifecycle-alerts.js';
import { insertEvents, lockRecordingOrder, lockUnitStates, saveUnitStates } from './lifecycle-repository.js';
import { LIFECYCLE_EVENT, type LifecycleDb, type LifecycleEventRow, type LifecycleEventTable, type UnitStateTable } from './lifecycle-table.js';
import { applyEvent, type TransitionRule, type UnitStatus } from './state-machine.js';
import type { LifecycleEventInput } from './resolvers-types.generated.js';

export const MAX_EVENTS_PER_CALL = 1_000;
/** Clocks of reporting devices drift; more than this ahead of ours is a wrong date, not drift. */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;
const EVENT_ID = /^[A-Za-z0-9._:-]{1,100}$/;
/** Serialization failure, deadlock, and a unique violation from a writer that won a race on an eventId. */
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01', '23505']);
const ATTEMPTS = 3;


/** Rules checked outside the state machine; the machine's own rules are TransitionRule. */
export type InputRule =
  | 'MALFORMED_CODE'
  | 'FOREIGN_COUNTRY'
  | 'UNKNOWN_UNIT'
  | 'INVALID_EVENT_ID'
  | 'OCCURRED_IN_FUTURE'
  | 'BEFORE_MANUFACTURE'
  | 'EVENT_ID_REUSED';

export interface Refusal {
  index: number;
  eventId: string;
  code: RegistryErrorCode;
  rule: InputRule | DetailRule | TransitionRule;
  message: string;
}

interface RegisteredUnit {
  code: string;
  registeredAt: string | Date;
}

interface KnownRecall {
  code: string;
}

/** An input that passed the checks needing no database: its canonical unit code and registration. */
interface Candidate {
  /** Who records it: the signed-in caller's subject (null for the node's own or legacy calls). */
  recordedBy: string | null;
  index: number;
  input: LifecycleEventInput;
  unitCode: string;
  registeredAt: Date;
  details: EventDetails;
}

/**
 * Records events atomically: every event is checked, and one refusal refuses the call with the
 * reasons of every refused event and writes nothing. Replays of recorded events (same eventId and
 * payload) return the recorded event.
 */
export async function recordEvents(
  deps: SubgraphDeps<LifecycleDb>,
  inputs: readonly LifecycleEventInput[],
  context: RequestContext,
): Promise<LifecycleEventRow[]> {
  if (inputs.length > MAX_EVENTS_PER_CALL) {
    throw registryError('LIMIT_EXCEEDED', `at most ${MAX_EVENTS_PER_CALL} events per call, got ${inputs.length}`, {
      max: MAX_EVENTS_PER_CALL,
    });
  }
  if (inputs.length === 0) return [];

  const refusals: Refusal[] = [];
  const refuse = (index: number, code: RegistryErrorCode, rule: Refusal['rule'], message: string) =>
    // An invalid eventId may be huge: echo no more of it than a valid one could be.
    refusals.push({ index, eventId: String(inputs[index]?.eventId ?? '').slice(0, 100), code, rule, message });

  // Checks that need neither the database nor another service.
  const latest = Date.now() + FUTURE_TOLERANCE_MS;
  const details: EventDetails[] = [];
  const unitCodes: (string | null)[] = inputs.map((input, index) => {
    if (!EVENT_ID.test(input.eventId)) {
      refuse(index, 'BAD_USER_INPUT', 'INVALID_EVENT_ID', `eventId must be 1 to 100 characters of A-Z a-z 0-9 . _ : -, got ${JSON.stringify(input.eventId.slice(0, 120))}`);
    }
    if (input.occurredAt.getTime() > latest) {
      refuse(index, 'EVENT_REFUSED', 'OCCURRED_IN_FUTURE', `occurredAt ${input.occurredAt.toISOString()} is more than 5 minutes in the future`);
    }
    let unitCode: string | null = null;
    try {
      unitCode = readHomeCode(input.unit, 'unit', deps.node);
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      const code = error.extensions.code as RegistryErrorCode;
      refuse(index, code, code === 'FOREIGN_COUNTRY' ? 'FOREIGN_COUNTRY' : 'MALFORMED_CODE', error.message);
    }
    const read = readEventDetails(input.type, input, unitCode, deps.node.country);
    for (const problem of read.problems) refuse(index, problem.code, problem.rule, problem.message);
    details.push(read.details);
    return unitCode;
  });

  // Registration is the units subgraph's to answer, whether a campaign exists the product-models
  // subgraph's: one lookup each for the whole call, before any transaction opens (a network call must
  // never hold row locks, and on PGlite the transaction holds the only connection).
  const distinct = [...new Set(unitCodes.filter((code): code is string => code !== null))];
  const recalls = [...new Set(details.map((d) => d.recall).filter((code): code is string => code !== null))];
  const [foundUnits, foundRecalls] = await Promise.all([
    deps.siblings.lookup<RegisteredUnit>('units', 'Unit', distinct, 'code registeredAt', context),
    recalls.length === 0 ? [] : deps.siblings.lookup<KnownRecall>('product-models', 'RecallCampaign', recalls, 'code closedAt', context),
  ]);
  const registeredAt = new Map<string, Date>();
  distinct.forEach((code, i) => {
    const unit = foundUnits[i];
    if (unit) registeredAt.set(code, new Date(unit.registeredAt));
  });
  const knownRecalls = new Set(recalls.filter((_, i) => foundRecalls[i]));

  unitCodes.forEach((unitCode, index) => {
    if (unitCode !== null && !registeredAt.has(unitCode)) {
      refuse(index, 'UNKNOWN_UNIT', 'UNKNOWN_UNIT', `unit ${unitCode} is not registered at this registry`);
    }
    const recall = details[index]!.recall;
    if (recall !== null && !knownRecalls.has(recall)) {
      const problem = unknownRecall(recall);
      refuse(index, problem.code, problem.rule, problem.message);
    }
  });
  const refusedEarly = new Set(refusals.map((r) => r.index));
  const candidates: Candidate[] = [];
  unitCodes.forEach((unitCode, index) => {
    if (unitCode === null || refusedEarly.has(index)) return;
    candidates.push({ index, input: inputs[index]!, unitCode, registeredAt: registeredAt.get(unitCode)!, details: details[index]!, recordedBy: context.caller?.subject ?? null });
  });

  if (candidates.length === 0) throw refusalError(refusals, inputs.length);
  const earlyRefusals = [...refusals];
  return withRetry(() =>
    deps.db.transaction().execute(async (trx) => {
      const outcome = await applyInOrder(trx, inputs, candidates, earlyRefusals.length > 0);
      // Throwing rolls back; a retry starts again from the refusals that did not depend on the database.
      const all = [...earlyRefusals, ...('refused' in outcome ? outcome.refused : [])];
      if (all.length > 0) throw refusalError(all, inputs.length);
      return 'recorded' in outcome ? outcome.recorded : [];
    }),
  );
}

type Outcome = { refused: Refusal[] } | { recorded: LifecycleEventRow[] };

/**
 * Decides every candidate against the locked, committed state of its unit, in input order, then writes
 * the accepted events and the new states in two statements, unless something was refused (here or
 * earlier: `doomed`), in which case it writes nothing and returns the refusals found here.
 */
async function applyInOrder(
  trx: Kysely<LifecycleDb>,
  inputs: readonly LifecycleEventInput[],
  candidates: readonly Candidate[],
  doomed: boolean,
): Promise<Outcome> {
  const refusals: Refusal[] = [];
  const locked = await lockUnitStates(trx, candidates.map((c) => c.unitCode));
  const recorded = new Map((await findByKeys(trx, LIFECYCLE_EVENT, candidates.map((c) => c.input.eventId))).map((row) => [row.event_id, row]));

  const units = new Map(
    locked.map((row) => [
      row.unit_code,
      {
        status: { state: row.state, stateBeforeTheft: row.state_before_theft } as UnitStatus,
        lastSequence: row.last_sequence,
        manufacturedAt: row.manufactured_at,
        changed: false,
      },
    ]),
  );
  const results = new Map<number, { recorded: LifecycleEventRow } | { sameAs: number } | { inserted: string }>();
  const firstInCall = new Map<string, Candidate>();
  const toInsert: Insertable<LifecycleEventTable>[] = [];

  for (const candidate of candidates) {
    const { index, input, unitCode, details } = candidate;
    const refuse = (code: RegistryErrorCode, rule: Refusal['rule'], message: string) =>
      refusals.push({ index, eventId: input.eventId, code, rule, message });

    const previous = recorded.get(input.eventId);
    if (previous) {
      if (samePayload(previous, candidate)) results.set(index, { recorded: previous });
      else refuse('EVENT_CONFLICT', 'EVENT_ID_REUSED', conflictMessage(input.eventId, describeRow(previous)));
      continue;
    }
    const earlier = firstInCall.get(input.eventId);
    if (earlier) {
      if (earlier.unitCode === unitCode && earlier.input.type === input.type && sameInstant(earlier.input.occurredAt, input.occurredAt) && sameDetails(earlier.details, details)) {
        results.set(index, { sameAs: earlier.index });
      } else {
        refuse('EVENT_CONFLICT', 'EVENT_ID_REUSED', conflictMessage(input.eventId, `event #${earlier.index} of this call`));
      }
      continue;
    }
    firstInCall.set(input.eventId, candidate);

    const unit = units.get(unitCode)!;
    const transition = applyEvent(unit.status, input.type);
    if (!transition.accepted) {
      refuse('EVENT_REFUSED', transition.rule, transition.message);
      continue;
    }
    // The MANUFACTURED event anchors a unit's history; without one, registration does (see docs/lifecycle.md).
    const notBefore = input.type === 'MANUFACTURED' ? null : (unit.manufacturedAt ?? candidate.registeredAt);
    if (notBefore && input.occurredAt.getTime() < notBefore.getTime()) {
      const anchor = unit.manufacturedAt ? 'its MANUFACTURED event' : 'its registration (record MANUFACTURED first to back-fill older history)';
      refuse('EVENT_REFUSED', 'BEFORE_MANUFACTURE', `${input.type} at ${input.occurredAt.toISOString()} is before the unit existed for this registry: ${anchor} is at ${notBefore.toISOString()}`);
      continue;
    }
    unit.status = transition.status;
    unit.lastSequence += 1;
    if (input.type === 'MANUFACTURED') unit.manufacturedAt = input.occurredAt;
    unit.changed = true;
    toInsert.push({
      event_id: input.eventId,
      unit_code: unitCode,
      type: input.type,
      occurred_at: input.occurredAt,
      sequence: unit.lastSequence,
      state_after: transition.status.state,
      recorded_by: candidate.recordedBy,
      ...details,
    });
    results.set(index, { inserted: input.eventId });
  }
  if (refusals.length > 0 || doomed) return { refused: refusals };

  if (toInsert.length > 0) await lockRecordingOrder(trx);
  const insertedRows = await insertEvents(trx, toInsert);
  const inserted = new Map(insertedRows.map((row) => [row.event_id, row]));
  // The transactional outbox: the alerts commit with the events or not at all (docs/alerts.md).
  await enqueueLifecycleAlerts(trx, insertedRows);
  const states: Insertable<UnitStateTable>[] = [];
  for (const [code, unit] of units) {
    if (!unit.changed) continue;
    states.push({
      unit_code: code,
      state: unit.status.state,
      state_before_theft: unit.status.stateBeforeTheft,
      last_sequence: unit.lastSequence,
      manufactured_at: unit.manufacturedAt,
    });
  }
  await saveUnitStates(trx, states);

  const rowAt = (index: number): LifecycleEventRow => {
    const result = results.get(index)!;
    if ('recorded' in result) return result.recorded;
    if ('sameAs' in result) return rowAt(result.sameAs);
    return inserted.get(result.inserted)!;
  };
  return { recorded: inputs.map((_, index) => rowAt(index)) };
}

/** The payload of an event is everything the client sent but its eventId: unit, type, occurredAt, details. */
function samePayload(row: LifecycleEventRow, candidate: Candidate): boolean {
  return (
    row.unit_code === candidate.unitCode &&
    row.type === candidate.input.type &&
    sameInstant(row.occurred_at, candidate.input.occurredAt) &&
    sameDetails(row, candidate.details)
  );
}

/** Postgres keeps microseconds and JavaScript milliseconds: compare at the precision both hold. */
function sameInstant(a: Date, b: Date): boolean {
  return a.getTime() === b.getTime();
}

function describeRow(row: LifecycleEventRow): string {
  return `the recorded ${row.type} of unit ${row.unit_code} at ${row.occurred_at.toISOString()}`;
}

function conflictMessage(eventId: string, original: string): string {
  return `eventId ${eventId} already identifies ${original}, with a different unit, type, occurredAt or details (owner, country, recall, note)`;
}

/** One error for the whole call; its code is the refusals' code when they agree, else EVENT_REFUSED. */
function refusalError(refusals: Refusal[], total: number): GraphQLError {
  refusals.sort((a, b) => a.index - b.index);
  const codes = new Set(refusals.map((r) => r.code));
  const code: RegistryErrorCode = codes.size === 1 ? refusals[0]!.code : 'EVENT_REFUSED';
  const shown = refusals.slice(0, 3).map((r) => `#${r.index} (${r.eventId}): ${r.message}`);
  if (refusals.length > shown.length) shown.push(`and ${refusals.length - shown.length} more`);
  return registryError(
    code,
    `${refusals.length} of ${total} events refused; nothing was recorded. ${shown.join('; ')}`,
    { refusals },
  );
}

/**
 * Row locks already serialise writers of one unit; this covers what locks cannot: deadlocks and
 * serialization failures on Postgres, and two calls racing to insert the same new eventId (the
 * retry then sees the winner's row and answers replay or EVENT_CONFLICT).
 */
async function withRetry<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      const sqlState = (error as { code?: unknown }).code;
      if (tries >= ATTEMPTS || error instanceof GraphQLError || typeof sqlState !== 'string' || !RETRYABLE_SQLSTATES.has(sqlState)) {
        throw error;
      }
    }
  }
}
