import type { PassportFacts } from './passport-facts.js';
import { timelineOf, type TimelineEntry } from './passport-timeline.js';

/**
 * The passport for machines (Accept: application/json): the facts of the page, field for field.
 * `passport` is the shape's version: fields may be added within a version, never renamed or removed.
 */
export interface PassportDocument extends PassportFacts {
  passport: 1;
  /** The resolver URL (PUBLIC_URL based); null for a malformed code. */
  url: string | null;
  /** The label's QR code, SVG and PNG; null for a malformed code. */
  qr: { svg: string; png: string } | null;
  timeline: TimelineEntry[];
}

export function passportDocument(facts: PassportFacts, url: string | null): PassportDocument {
  return { passport: 1, url, qr: url ? { svg: `${url}/qr.svg`, png: `${url}/qr.png` } : null, ...facts, timeline: timelineOf(facts) };
}

export function passportJson(facts: PassportFacts, url: string | null): string {
  return JSON.stringify(passportDocument(facts, url), null, 2);
}
