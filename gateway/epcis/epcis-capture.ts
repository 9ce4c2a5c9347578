import type { LifecycleEventType } from '../../subgraphs/lifecycle/state-machine.js';
import { COUNTRY_URN, eventIdFromEpcis, OWNER_URN, unitOfEpc, withoutPrefix } from './epcis-identifiers.js';
import { bareVocabulary, EVENT_VOCABULARY, EVENT_TYPES, eventTypeOfBizStep, EXTENSION_NAMESPACE, EXTENSION_PREFIX } from './epcis-vocabulary.js';

/** What `recordEvents` takes (schema/lifecycle.graphql, LifecycleEventInput). */
export interface LifecycleEventInput {
  eventId: string;
  unit: string;
  type: LifecycleEventType;
  occurredAt: string;
  owner?: string;
  country?: string;
  recall?: string;
  note?: string;
}

/** Why one event of the document does not map: which one, and which field. */
export interface CaptureRefusal {
  index: number;
  eventID?: string;
  field: string;
  message: string;
}

export type CaptureMapping = { ok: true; events: LifecycleEventInput[] } | { ok: false; refusals: CaptureRefusal[]; field?: string; message?: string };

/** The most events one document may carry: recordEvents' own limit, so one document is one atomic call. */
export const MAX_CAPTURE_EVENTS = 1000;

// Our eventIds (subgraphs/lifecycle/record-events.ts); said here so a refusal names the EPCIS field.
const EVENT_ID = /^[A-Za-z0-9._:-]{1,100}$/;
// Standard ObjectEvent fields the registry has no place for: refused rather than silently dropped.
const NOT_RECORDED = ['readPoint', 'bizLocation', 'bizTransactionList', 'sensorElementList', 'ilmd', 'persistentDisposition', 'certificationInfo', 'quantityList', 'errorDeclaration'];
// rr:stateAfter is output-only (GET /epcis/events), accepted and ignored so that a document read can be
// sent back as is; so are recordTime (the registry's own) and eventTimeZoneOffset (eventTime has its offset).
const EXTENSIONS = new Set(['eventType', 'stateAfter', 'recall', 'note']);

/**
 * Maps a schema-valid EPCISDocument to recordEvents inputs (docs/epcis.md, "Capture"), checking only
 * what the mapping needs; the lifecycle rules themselves stay with recordEvents. Every refusal of the
 * document is listed, so a client fixes them all at once.
 */
export function mapCaptureDocument(document: Record<string, unknown>, publicUrl: string): CaptureMapping {
  if (document.type !== 'EPCISDocument') return { ok: false, refusals: [], field: 'type', message: `capture takes an EPCISDocument, got ${JSON.stringify(String(document.type).slice(0, 40))}` };
  if (document.epcisHeader !== undefined) return { ok: false, refusals: [], field: 'epcisHeader', message: 'master data (epcisHeader) is not captured: the registry takes units, models and enterprises through GraphQL' };
  const eventList = ((document.epcisBody as { eventList?: unknown[] } | undefined)?.eventList ?? []) as Record<string, unknown>[];
  if (!eventList.length) return { ok: false, refusals: [], field: 'epcisBody.eventList', message: 'the document has no events' };
  const refusals: CaptureRefusal[] = [];
  const events: LifecycleEventInput[] = [];
  eventList.forEach((event, index) => {
    const mapped = mapEvent(event, index, publicUrl);
    if ('refusals' in mapped) refusals.push(...mapped.refusals);
    else events.push(mapped.event);
  });
  return refusals.length ? { ok: false, refusals } : { ok: true, events };
}

function mapEvent(event: Record<string, unknown>, index: number, publicUrl: string): { event: LifecycleEventInput } | { refusals: CaptureRefusal[] } {
  const eventID = typeof event.eventID === 'string' ? event.eventID : undefined;
  const refusals: CaptureRefusal[] = [];
  const refuse = (field: string, message: string) => void refusals.push({ index, ...(eventID !== undefined ? { eventID } : {}), field, message });

  if (event.type !== 'ObjectEvent') {
    refuse('type', `only ObjectEvents map to lifecycle events, got ${JSON.stringify(String(event.type).slice(0, 40))}`);
    return { refusals };
  }
  const extensions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    const local = extensionName(key);
    if (local !== null) {
      if (EXTENSIONS.has(local)) extensions[local] = value;
      else refuse(key, `extension field ${JSON.stringify(key)} is not one the registry records; known: ${[...EXTENSIONS].map((e) => `${EXTENSION_PREFIX}:${e}`).join(', ')}`);
    } else if (NOT_RECORDED.includes(key)) {
      refuse(key, `${key} is not recorded by the registry (a unit's events carry no ${key}); leave it out`);
    } else if (key.includes(':')) {
      refuse(key, `extension field ${JSON.stringify(key.slice(0, 100))} is not one the registry records`);
    }
  }

  let eventId = '';
  if (eventID === undefined) refuse('eventID', 'eventID is required: it is the event\'s id in the registry, and what makes a re-sent document record nothing twice');
  else {
    eventId = eventIdFromEpcis(eventID);
    if (!EVENT_ID.test(eventId)) refuse('eventID', `eventID ${JSON.stringify(eventID.slice(0, 120))} does not fit the registry's event ids (1 to 100 of A-Z a-z 0-9 . _ : -); use e.g. urn:uuid:<uuid>`);
  }
  if (event.action === 'DELETE') refuse('action', 'action DELETE is refused: lifecycle events are append-only; use ADD (commissioning) or OBSERVE');

  const epcList = Array.isArray(event.epcList) ? (event.epcList as string[]) : [];
  let unit = '';
  if (epcList.length !== 1) refuse('epcList', `an event names exactly one unit (its eventID is the event's id); got ${epcList.length} EPCs`);
  else {
    const unitOf = unitOfEpc(publicUrl, epcList[0]!);
    if ('problem' in unitOf) refuse('epcList[0]', unitOf.problem);
    else unit = unitOf.code;
  }

  let type: LifecycleEventType | null = null;
  if (typeof event.bizStep !== 'string') refuse('bizStep', `bizStep is required; one of ${EVENT_TYPES.map((t) => EVENT_VOCABULARY[t].bizStep).join(', ')}`);
  else {
    type = eventTypeOfBizStep(event.bizStep);
    if (!type) refuse('bizStep', `bizStep ${JSON.stringify(event.bizStep.slice(0, 100))} maps to no lifecycle event; one of ${EVENT_TYPES.map((t) => EVENT_VOCABULARY[t].bizStep).join(', ')}`);
  }
  if (type) {
    const expected = EVENT_VOCABULARY[type].disposition;
    if (typeof event.disposition === 'string' && bareVocabulary('disposition', event.disposition) !== expected) {
      refuse('disposition', `disposition ${JSON.stringify(event.disposition.slice(0, 100))} does not fit bizStep ${EVENT_VOCABULARY[type].bizStep} (${type}): ${expected ? `expected ${expected}` : 'leave it out'}`);
    }
    if (extensions.eventType !== undefined && extensions.eventType !== type) {
      refuse(`${EXTENSION_PREFIX}:eventType`, `${EXTENSION_PREFIX}:eventType ${JSON.stringify(String(extensions.eventType).slice(0, 40))} contradicts bizStep ${EVENT_VOCABULARY[type].bizStep}, which is ${type}`);
    }
  }

  const details: Pick<LifecycleEventInput, 'owner' | 'country' | 'recall' | 'note'> = {};
  for (const [list, end] of [['destinationList', 'destination'], ['sourceList', 'source']] as const) {
    const entries = Array.isArray(event[list]) ? (event[list] as Record<string, string>[]) : [];
    entries.forEach((entry, i) => {
      const field = `${list}[${i}]`;
      const kind = bareSourceDestType(entry.type ?? '');
      const uri = entry[end] ?? '';
      if (kind === 'owning_party' && end === 'destination') {
        const owner = withoutPrefix(uri, OWNER_URN);
        if (owner === null) refuse(field, `the new owner is written ${OWNER_URN}<reference>, got ${JSON.stringify(uri.slice(0, 100))}`);
        else if (details.owner !== undefined) refuse(field, 'more than one owning_party destination');
        else details.owner = owner;
      } else if (kind === 'location' && ((end === 'destination' && type === 'EXPORTED') || (end === 'source' && type === 'IMPORTED'))) {
        const country = withoutPrefix(uri, COUNTRY_URN);
        if (country === null) refuse(field, `a country is written ${COUNTRY_URN}<country segment>, got ${JSON.stringify(uri.slice(0, 100))}`);
        else if (details.country !== undefined) refuse(field, 'more than one country');
        else details.country = country;
      } else {
        refuse(field, `a ${kind || '(no type)'} ${end} is not recorded for this event; the registry records an owning_party destination (SOLD, OWNERSHIP_TRANSFERRED), a location destination (EXPORTED) or a location source (IMPORTED)`);
      }
    });
  }
  for (const name of ['recall', 'note'] as const) {
    const value = extensions[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') refuse(`${EXTENSION_PREFIX}:${name}`, `${EXTENSION_PREFIX}:${name} must be a string`);
    else details[name] = value;
  }
  const occurredAt = typeof event.eventTime === 'string' ? new Date(event.eventTime) : null;
  if (!occurredAt || Number.isNaN(occurredAt.getTime())) refuse('eventTime', 'eventTime is not a date-time');

  if (refusals.length || !type) return { refusals };
  return { event: { eventId, unit, type, occurredAt: occurredAt!.toISOString(), ...details } };
}

/** `rr:note`, or the full `urn:robot-registry:voc:note` → `note`; null for any other key. */
function extensionName(key: string): string | null {
  if (key.startsWith(`${EXTENSION_PREFIX}:`)) return key.slice(EXTENSION_PREFIX.length + 1);
  if (key.startsWith(EXTENSION_NAMESPACE)) return key.slice(EXTENSION_NAMESPACE.length);
  return null;
}

function bareSourceDestType(value: string): string {
  for (const prefix of ['https://ref.gs1.org/cbv/SDT-', 'urn:epcglobal:cbv:sdt:']) if (value.startsWith(prefix)) return value.slice(prefix.length);
  return value;
}
