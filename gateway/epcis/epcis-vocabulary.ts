import type { LifecycleEventType } from '../../subgraphs/lifecycle/state-machine.js';

/**
 * How each lifecycle event type reads in EPCIS 2.0 (docs/epcis.md, "Mapping"): a CBV 2.0 business step
 * where one fits, a private one under PRIVATE_BIZSTEP otherwise (the schema accepts any URI outside the
 * CBV namespace), and the disposition the unit has after it. Every type has its own bizStep, so capture
 * maps a bizStep back to exactly one type.
 */
export interface EventVocabulary {
  bizStep: string;
  /** Absent where the event leaves the unit's condition as it was (ownership and service events, recovery). */
  disposition?: string;
  /** ADD for the unit's commissioning (CBV: the identifier is associated with the object); OBSERVE otherwise. */
  action: 'ADD' | 'OBSERVE';
}

/** Our own namespace for what neither EPCIS nor CBV names (a URN: stable whatever PUBLIC_URL a deployment has). */
export const REGISTRY_URN = 'urn:robot-registry:';
export const PRIVATE_BIZSTEP = `${REGISTRY_URN}bizstep:`;
/** JSON-LD prefix of our extension fields (`rr:recall`, `rr:note`, `rr:eventType`, `rr:stateAfter`). */
export const EXTENSION_PREFIX = 'rr';
export const EXTENSION_NAMESPACE = `${REGISTRY_URN}voc:`;

const own = (step: string) => `${PRIVATE_BIZSTEP}${step}`;

export const EVENT_VOCABULARY: Record<LifecycleEventType, EventVocabulary> = {
  MANUFACTURED: { bizStep: 'commissioning', disposition: 'active', action: 'ADD' },
  SOLD: { bizStep: 'retail_selling', disposition: 'retail_sold', action: 'OBSERVE' },
  OWNERSHIP_TRANSFERRED: { bizStep: own('transferring_ownership'), action: 'OBSERVE' },
  EXPORTED: { bizStep: 'shipping', disposition: 'in_transit', action: 'OBSERVE' },
  IMPORTED: { bizStep: 'receiving', disposition: 'active', action: 'OBSERVE' },
  DEPLOYED: { bizStep: own('deploying'), disposition: 'available', action: 'OBSERVE' },
  MAINTAINED: { bizStep: own('maintaining'), action: 'OBSERVE' },
  REPAIRED: { bizStep: 'repairing', action: 'OBSERVE' },
  SOFTWARE_UPDATED: { bizStep: own('updating_software'), action: 'OBSERVE' },
  RECALL_REMEDIED: { bizStep: own('remedying_recall'), action: 'OBSERVE' },
  REPORTED_STOLEN: { bizStep: own('reporting_theft'), disposition: 'stolen', action: 'OBSERVE' },
  RECOVERED: { bizStep: own('recovering'), action: 'OBSERVE' },
  DECOMMISSIONED: { bizStep: own('taking_out_of_service'), disposition: 'inactive', action: 'OBSERVE' },
  SCRAPPED: { bizStep: 'decommissioning', disposition: 'destroyed', action: 'OBSERVE' },
  RECYCLED: { bizStep: 'destroying', disposition: 'disposed', action: 'OBSERVE' },
};

export const EVENT_TYPES = Object.keys(EVENT_VOCABULARY) as LifecycleEventType[];

// CBV 2.0 values may be written bare (the JSON-LD context expands them), as the standard context's CURIE
// (`cbv:BizStep-shipping`) or as full URIs in either of CBV's namespaces; all name the same value.
const CBV_PREFIXES = {
  bizStep: ['https://ref.gs1.org/cbv/BizStep-', 'urn:epcglobal:cbv:bizstep:', 'cbv:BizStep-'],
  disposition: ['https://ref.gs1.org/cbv/Disp-', 'urn:epcglobal:cbv:disp:', 'cbv:Disp-'],
};

/** A bizStep or disposition as written → its bare CBV word, or the URI unchanged when it is not CBV's. */
export function bareVocabulary(kind: 'bizStep' | 'disposition', value: string): string {
  for (const prefix of CBV_PREFIXES[kind]) if (value.startsWith(prefix)) return value.slice(prefix.length);
  return value;
}

/** The event type a bizStep stands for, or null when none of ours does. */
export function eventTypeOfBizStep(bizStep: string): LifecycleEventType | null {
  const bare = bareVocabulary('bizStep', bizStep);
  return EVENT_TYPES.find((type) => EVENT_VOCABULARY[type].bizStep === bare) ?? null;
}

/** Event types whose vocabulary has this value for `field` (an unknown value: none). */
export function eventTypesWith(field: 'bizStep' | 'disposition' | 'action', value: string): LifecycleEventType[] {
  const wanted = field === 'action' ? value : bareVocabulary(field, value);
  return EVENT_TYPES.filter((type) => EVENT_VOCABULARY[type][field] === wanted);
}
