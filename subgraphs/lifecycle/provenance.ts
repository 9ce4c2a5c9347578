import type { LifecycleEventRow } from './lifecycle-table.js';

/** What customs asks about a unit's past: who owned it, where it went, what was repaired or remedied. */
export interface Provenance {
  owners: OwnershipRecord[];
  borderCrossings: BorderCrossing[];
  repairs: LifecycleEventRow[];
  remedies: LifecycleEventRow[];
}

export interface OwnershipRecord {
  /** The unit owned: the access policy reads it to show the owner to the unit's own manufacturer. */
  unitCode: string;
  owner: string;
  since: Date;
  until: Date | null;
  eventId: string;
}

export interface BorderCrossing {
  direction: 'EXPORT' | 'IMPORT';
  country: string;
  occurredAt: Date;
  eventId: string;
}

/**
 * Builds the provenance from a unit's events ordered by time of occurrence (then sequence), so that a
 * late-reported sale still takes its place in time. An ownership lasts until the next SOLD or
 * OWNERSHIP_TRANSFERRED; the current owner's has no end. Events recorded before details were
 * required may lack their owner or country: they still end the previous ownership but are not
 * listed themselves (the contract's owner and country are non-null, and inventing one would be worse).
 */
export function buildProvenance(events: readonly LifecycleEventRow[]): Provenance {
  const provenance: Provenance = { owners: [], borderCrossings: [], repairs: [], remedies: [] };
  let current: OwnershipRecord | null = null;
  for (const event of events) {
    switch (event.type) {
      case 'SOLD':
      case 'OWNERSHIP_TRANSFERRED':
        if (current) current.until = event.occurred_at;
        current = event.owner === null ? null : { unitCode: event.unit_code, owner: event.owner, since: event.occurred_at, until: null, eventId: event.event_id };
        if (current) provenance.owners.push(current);
        break;
      case 'EXPORTED':
      case 'IMPORTED':
        if (event.country !== null) {
          provenance.borderCrossings.push({
            direction: event.type === 'EXPORTED' ? 'EXPORT' : 'IMPORT',
            country: event.country,
            occurredAt: event.occurred_at,
            eventId: event.event_id,
          });
        }
        break;
      case 'REPAIRED':
      case 'MAINTAINED':
        provenance.repairs.push(event);
        break;
      case 'RECALL_REMEDIED':
        provenance.remedies.push(event);
        break;
      default:
        // Other events are not part of provenance (the repository does not fetch them).
        break;
    }
  }
  return provenance;
}

/** Names for the generated resolver types (whose own Provenance and BorderCrossing are the SDL's). */
export type ProvenanceRecord = Provenance;
export type BorderCrossingRecord = BorderCrossing;
