import { parseCode } from '../../lib/identity-code/identity-code.js';
import { resolverUrl } from '../passport/public-url.js';
import { REGISTRY_URN } from './epcis-vocabulary.js';

/**
 * The URIs our events are written with in EPCIS (docs/epcis.md, "Identifiers"). A unit is the passport
 * resolver's URL, `<PUBLIC_URL>/id/<CODE>`: an HTTP URI in a domain the registry controls that
 * resolves to the unit's passport (Digital Link-like, though the code is not a GS1 key, so neither a
 * GS1 Digital Link URI nor an `urn:epc:id:` EPC URI can carry it). Owners, countries and event ids that
 * are not URIs get URNs under REGISTRY_URN.
 */

const ID_PATH = '/id/';
export const OWNER_URN = `${REGISTRY_URN}owner:`;
export const COUNTRY_URN = `${REGISTRY_URN}country:`;
export const EVENT_URN = `${REGISTRY_URN}event:`;

export function epcOfUnit(publicUrl: string, code: string): string {
  return resolverUrl(publicUrl, code);
}

/**
 * The canonical code an EPC names, or why it names none. Only this registry's own form is accepted:
 * `<PUBLIC_URL>/id/<code>` (the code in any written form the resolver accepts). Compared as URLs, so the
 * scheme's and host's case and a default port do not matter.
 */
export function unitOfEpc(publicUrl: string, epc: string): { code: string } | { problem: string } {
  const shown = JSON.stringify(epc.slice(0, 200));
  const notOurs = { problem: `EPC ${shown} is not a unit of this registry: units are written ${publicUrl}${ID_PATH}<code>` };
  let url: URL;
  try {
    url = new URL(epc);
  } catch {
    return notOurs;
  }
  const base = new URL(publicUrl);
  const prefix = `${base.pathname.replace(/\/$/, '')}${ID_PATH}`;
  if (url.origin !== base.origin || !url.pathname.startsWith(prefix) || url.search || url.hash || url.username || url.password) return notOurs;
  let written: string;
  try {
    written = decodeURIComponent(url.pathname.slice(prefix.length));
  } catch {
    return { problem: `EPC ${shown}: the code is not valid percent-encoding` };
  }
  const parsed = parseCode(written);
  if (!parsed.canonical) return { problem: `EPC ${shown}: ${parsed.problems.map((p) => p.message).join('; ')}` };
  return { code: parsed.canonical };
}

// Our eventIds are 1-100 of [A-Za-z0-9._:-]; one that already reads as a URI (`urn:uuid:...`) is used
// as is, any other is wrapped. Ids that start with EVENT_URN are wrapped again, so unwrapping is exact.
const URI_LIKE = /^[A-Za-z][A-Za-z0-9+.-]*:.+$/;

export function eventIdToEpcis(eventId: string): string {
  return URI_LIKE.test(eventId) && !eventId.startsWith(EVENT_URN) ? eventId : `${EVENT_URN}${eventId}`;
}

export function eventIdFromEpcis(eventID: string): string {
  return eventID.startsWith(EVENT_URN) ? eventID.slice(EVENT_URN.length) : eventID;
}

/** `urn:robot-registry:owner:<ref>`: the owner reference's characters are all legal in a URN. */
export function ownerUri(owner: string): string {
  return `${OWNER_URN}${owner}`;
}

export function countryUri(country: string): string {
  return `${COUNTRY_URN}${country}`;
}

/** The part after `prefix`, or null when `uri` is not in that namespace. */
export function withoutPrefix(uri: string, prefix: string): string | null {
  return uri.startsWith(prefix) ? uri.slice(prefix.length) : null;
}
