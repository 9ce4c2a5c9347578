import type { LifecycleEventType } from '../../subgraphs/lifecycle/state-machine.js';
import { countryUri, epcOfUnit, eventIdToEpcis, ownerUri } from './epcis-identifiers.js';
import { EVENT_VOCABULARY, EXTENSION_NAMESPACE, EXTENSION_PREFIX } from './epcis-vocabulary.js';

/** The JSON-LD context of the ratified standard, and our prefix for the extension fields. */
export const EPCIS_CONTEXT = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld';
export const DOCUMENT_CONTEXT = [EPCIS_CONTEXT, { [EXTENSION_PREFIX]: EXTENSION_NAMESPACE }];
export const SCHEMA_VERSION = '2.0';
/** Owner references the caller may not read come back as this (lib/access/access-policy.ts). */
const WITHHELD = 'WITHHELD';

/** One lifecycle event as the gateway's GraphQL answers it (the fields EPCIS_EVENTS_OPERATION asks). */
export interface RegistryEvent {
  eventId: string;
  type: LifecycleEventType;
  occurredAt: string;
  recordedAt: string;
  stateAfter: string;
  owner: string | null;
  country: string | null;
  recall: string | null;
  note: string | null;
}

export type EpcisObjectEvent = Record<string, unknown> & { type: 'ObjectEvent'; eventID: string };

/**
 * One event as an EPCIS ObjectEvent. What the registry does not record (a read point, a business
 * location) is left out rather than invented; the country on the other side of a border crossing is a
 * `location` source (import) or destination (export), the new owner an `owning_party` destination.
 */
export function objectEventOf(publicUrl: string, unit: string, event: RegistryEvent): EpcisObjectEvent {
  const vocabulary = EVENT_VOCABULARY[event.type];
  const destinations: { type: string; destination: string }[] = [];
  const sources: { type: string; source: string }[] = [];
  if (event.owner && event.owner !== WITHHELD) destinations.push({ type: 'owning_party', destination: ownerUri(event.owner) });
  if (event.country && event.type === 'EXPORTED') destinations.push({ type: 'location', destination: countryUri(event.country) });
  if (event.country && event.type === 'IMPORTED') sources.push({ type: 'location', source: countryUri(event.country) });
  return {
    type: 'ObjectEvent',
    eventID: eventIdToEpcis(event.eventId),
    eventTime: event.occurredAt,
    eventTimeZoneOffset: '+00:00', // the registry keeps instants in UTC
    recordTime: event.recordedAt,
    epcList: [epcOfUnit(publicUrl, unit)],
    action: vocabulary.action,
    bizStep: vocabulary.bizStep,
    ...(vocabulary.disposition ? { disposition: vocabulary.disposition } : {}),
    ...(sources.length ? { sourceList: sources } : {}),
    ...(destinations.length ? { destinationList: destinations } : {}),
    [`${EXTENSION_PREFIX}:eventType`]: event.type,
    [`${EXTENSION_PREFIX}:stateAfter`]: event.stateAfter,
    ...(event.recall ? { [`${EXTENSION_PREFIX}:recall`]: event.recall } : {}),
    ...(event.note !== null && event.note !== undefined ? { [`${EXTENSION_PREFIX}:note`]: event.note } : {}),
  };
}

/** The answer of GET /epcis/events: an EPCISQueryDocument with the events in the unit's order. */
export function queryDocument(events: EpcisObjectEvent[], now: Date): Record<string, unknown> {
  return {
    '@context': DOCUMENT_CONTEXT,
    type: 'EPCISQueryDocument',
    schemaVersion: SCHEMA_VERSION,
    creationDate: now.toISOString(),
    epcisBody: { queryResults: { queryName: 'SimpleEventQuery', resultsBody: { eventList: events } } },
  };
}
