/**
 * The details an event carries besides its type and time: who the unit went to (owner), across which
 * border (country), which recall campaign was remedied (recall), and a free note. Pure checks, no I/O:
 * whether a campaign exists is the product-models subgraph's answer (record-events.ts asks it).
 */
import type { RegistryErrorCode } from '../../lib/errors.js';
import type { LifecycleEventType } from './state-machine.js';

export interface EventDetailsInput {
  owner?: string | null;
  country?: string | null;
  recall?: string | null;
  note?: string | null;
}

/** As stored: normalised, null where not given. */
export interface EventDetails {
  owner: string | null;
  country: string | null;
  recall: string | null;
  note: string | null;
}

export type DetailRule =
  | 'OWNER_REQUIRED'
  | 'INVALID_OWNER'
  | 'COUNTRY_REQUIRED'
  | 'INVALID_COUNTRY'
  | 'EXPORT_TO_OWN_COUNTRY'
  | 'RECALL_REQUIRED'
  | 'INVALID_RECALL'
  | 'RECALL_OF_OTHER_MODEL'
  | 'UNKNOWN_RECALL'
  | 'INVALID_NOTE'
  | 'DETAIL_NOT_APPLICABLE';

export interface DetailProblem {
  code: RegistryErrorCode;
  rule: DetailRule;
  message: string;
}

export const MAX_NOTE_LENGTH = 500;
/** An opaque reference (a customer number, a hash): no spaces, so a personal name does not fit. */
const OWNER = /^[A-Za-z0-9._:-]{1,100}$/;
const COUNTRY = /^[0-9A-Z]{2}$/;
/** The model's 12-character code, R, and a 4-digit number: the key of a RecallCampaign. */
const RECALL = /^[0-9A-Z]{12}R\d{4}$/;

/** Which event types carry which detail; each is required for its types and refused on any other. */
export const DETAIL_EVENT_TYPES = {
  owner: ['SOLD', 'OWNERSHIP_TRANSFERRED'],
  country: ['EXPORTED', 'IMPORTED'],
  recall: ['RECALL_REMEDIED'],
} as const satisfies Record<'owner' | 'country' | 'recall', readonly LifecycleEventType[]>;

/**
 * Checks and normalises the details of one event. `unitCode` is the canonical unit code, or null when
 * the code itself is refused (then the campaign's model cannot be compared). A detail with a problem
 * is returned as null, so that nothing downstream looks it up.
 */
export function readEventDetails(
  type: LifecycleEventType,
  input: EventDetailsInput,
  unitCode: string | null,
  homeCountry: string,
): { details: EventDetails; problems: DetailProblem[] } {
  const problems: DetailProblem[] = [];
  const problem = (rule: DetailRule, message: string) => problems.push({ code: 'BAD_USER_INPUT', rule, message });
  const details: EventDetails = { owner: null, country: null, recall: null, note: null };

  const owner = given(input.owner);
  if (applies('owner', type)) {
    if (owner === null) problem('OWNER_REQUIRED', `${type} needs owner: an opaque reference to the new owner (1 to 100 characters of A-Z a-z 0-9 . _ : -)`);
    // The value is not echoed: what fails this check is often a person's name, and messages reach the logs.
    else if (!OWNER.test(owner)) problem('INVALID_OWNER', `owner must be an opaque reference of 1 to 100 characters of A-Z a-z 0-9 . _ : - (never a name; no spaces), got ${describeOwner(owner)}`);
    else details.owner = owner;
  } else if (owner !== null) {
    problem('DETAIL_NOT_APPLICABLE', `owner is only recorded for SOLD and OWNERSHIP_TRANSFERRED, not ${type}`);
  }

  const country = given(input.country)?.trim().toUpperCase() ?? null;
  if (applies('country', type)) {
    const side = type === 'EXPORTED' ? 'destination' : 'origin';
    if (country === null) problem('COUNTRY_REQUIRED', `${type} needs country: the ${side} country segment (2 characters of 0-9 A-Z)`);
    else if (!COUNTRY.test(country)) problem('INVALID_COUNTRY', `country must be a 2-character country segment of 0-9 A-Z, got ${quote(input.country!)}`);
    else if (type === 'EXPORTED' && country === (unitCode?.slice(0, 2) ?? homeCountry)) {
      problem('EXPORT_TO_OWN_COUNTRY', `EXPORTED needs a destination other than the unit's own country ${country}`);
    } else details.country = country;
  } else if (country !== null) {
    problem('DETAIL_NOT_APPLICABLE', `country is only recorded for EXPORTED and IMPORTED, not ${type}`);
  }

  // Normalised like the codes it derives from: trim, upper-case, drop spaces and hyphens.
  const recall = given(input.recall)?.trim().toUpperCase().replace(/[\s-]/g, '') ?? null;
  if (applies('recall', type)) {
    if (recall === null) problem('RECALL_REQUIRED', `RECALL_REMEDIED needs recall: the code of the recall campaign that was remedied`);
    else if (!RECALL.test(recall)) problem('INVALID_RECALL', `recall must be a campaign code: the 12-character model code, R and 4 digits (e.g. CNHMRBH1A001R0001), got ${quote(input.recall!)}`);
    else if (unitCode !== null && recall.slice(0, 12) !== unitCode.slice(0, 12)) {
      problem('RECALL_OF_OTHER_MODEL', `recall campaign ${recall} is for model ${recall.slice(0, 12)}, not for this unit's model ${unitCode.slice(0, 12)}`);
    } else details.recall = recall;
  } else if (recall !== null) {
    problem('DETAIL_NOT_APPLICABLE', `recall is only recorded for RECALL_REMEDIED, not ${type}`);
  }

  const note = given(input.note);
  if (note !== null) {
    // Counted in characters (code points), as the database counts them.
    if ([...note].length > MAX_NOTE_LENGTH) problem('INVALID_NOTE', `note must be at most ${MAX_NOTE_LENGTH} characters, got ${[...note].length}`);
    else if (note.includes('\u0000')) problem('INVALID_NOTE', 'note must not contain NUL characters');
    else details.note = note;
  }
  return { details, problems };
}

export function unknownRecall(recall: string): DetailProblem {
  return { code: 'UNKNOWN_RECALL', rule: 'UNKNOWN_RECALL', message: `recall campaign ${recall} is not known to this registry` };
}

export function sameDetails(a: EventDetails, b: EventDetails): boolean {
  return a.owner === b.owner && a.country === b.country && a.recall === b.recall && a.note === b.note;
}

function applies(detail: keyof typeof DETAIL_EVENT_TYPES, type: LifecycleEventType): boolean {
  return (DETAIL_EVENT_TYPES[detail] as readonly LifecycleEventType[]).includes(type);
}

function given(value: string | null | undefined): string | null {
  return value === null || value === undefined ? null : value;
}

function describeOwner(owner: string): string {
  const bad = /[^A-Za-z0-9._:-]/.exec(owner);
  return bad ? `${owner.length} characters, the first one not allowed at position ${bad.index + 1}` : `${owner.length} characters`;
}

function quote(value: string): string {
  return JSON.stringify(value.length > 120 ? `${value.slice(0, 120)}...` : value);
}
