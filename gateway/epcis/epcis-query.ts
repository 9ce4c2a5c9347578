import { parseCode } from '../../lib/identity-code/identity-code.js';
import type { LifecycleEventType } from '../../subgraphs/lifecycle/state-machine.js';
import { unitOfEpc } from './epcis-identifiers.js';
import { EVENT_TYPES, eventTypesWith } from './epcis-vocabulary.js';

/**
 * The query string of GET /epcis/events, as far as the EPCIS 2.0 REST binding's parameters apply to one
 * unit's history (docs/epcis.md, "Query parameters"). Anything else is refused by name, so a client never
 * mistakes an ignored filter for an applied one.
 */
export interface EventsQuery {
  code: string;
  /** Absent: every type; empty: none can match (the filters exclude each other). */
  types?: LifecycleEventType[];
  occurredFrom?: string;
  occurredBefore?: string;
  perPage: number;
  nextPageToken?: string;
}

export type ParsedQuery = { ok: true; query: EventsQuery } | { ok: false; parameter: string; detail: string };

export const DEFAULT_PER_PAGE = 30; // the REST binding's default
export const MAX_PER_PAGE = 500; // the contract's page limit

const SUPPORTED = ['unit', 'MATCH_epc', 'eventType', 'EQ_bizStep', 'EQ_disposition', 'EQ_action', 'GE_eventTime', 'LT_eventTime', 'perPage', 'nextPageToken'];
const EVENT_TYPE_NAMES = ['ObjectEvent', 'AggregationEvent', 'TransactionEvent', 'TransformationEvent', 'AssociationEvent'];
// RFC 3339 date-time with an offset (or Z): what the binding's `format: date-time` means.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

export function parseEventsQuery(params: URLSearchParams, publicUrl: string): ParsedQuery {
  const names = [...new Set(params.keys())];
  const unsupported = names.filter((name) => !SUPPORTED.includes(name));
  if (unsupported.length) {
    return refuse(unsupported[0]!, `unsupported query parameter${unsupported.length > 1 ? 's' : ''} ${unsupported.map((n) => JSON.stringify(n)).join(', ')}; supported: ${SUPPORTED.join(', ')}`);
  }
  const repeated = names.find((name) => params.getAll(name).length > 1);
  if (repeated) return refuse(repeated, `"${repeated}" is given more than once; list several values in one parameter, separated by |`);
  const one = (name: string) => params.get(name) ?? undefined;

  let code: string | undefined;
  const unit = one('unit');
  const matchEpc = one('MATCH_epc');
  if (unit !== undefined && matchEpc !== undefined) return refuse('MATCH_epc', 'give the unit either as unit=<code> or as MATCH_epc=<EPC URI>, not both');
  if (unit !== undefined) {
    const parsed = parseCode(unit);
    if (!parsed.canonical) return refuse('unit', `unit ${JSON.stringify(unit.slice(0, 100))} is not a unit code: ${parsed.problems.map((p) => p.message).join('; ')}`);
    code = parsed.canonical;
  } else if (matchEpc !== undefined) {
    const epcs = matchEpc.split('|');
    if (epcs.length !== 1) return refuse('MATCH_epc', `one EPC per query (a unit's history); got ${epcs.length}`);
    const unitOf = unitOfEpc(publicUrl, epcs[0]!);
    if ('problem' in unitOf) return refuse('MATCH_epc', unitOf.problem);
    code = unitOf.code;
  } else {
    return refuse('unit', `name the unit: unit=<code> or MATCH_epc=${publicUrl}/id/<code>`);
  }

  let types: LifecycleEventType[] | undefined;
  const narrow = (allowed: LifecycleEventType[]) => {
    types = (types ?? EVENT_TYPES).filter((t) => allowed.includes(t));
  };
  const eventType = one('eventType');
  if (eventType !== undefined) {
    const values = eventType.split('|');
    const bad = values.find((v) => !EVENT_TYPE_NAMES.includes(v));
    if (bad !== undefined) return refuse('eventType', `unknown event type ${JSON.stringify(bad)}; one of ${EVENT_TYPE_NAMES.join(', ')}`);
    // Every event of the registry is an ObjectEvent; the other types are valid and match nothing.
    narrow(values.includes('ObjectEvent') ? EVENT_TYPES : []);
  }
  for (const [name, field] of [['EQ_bizStep', 'bizStep'], ['EQ_disposition', 'disposition'], ['EQ_action', 'action']] as const) {
    const value = one(name);
    if (value === undefined) continue;
    const values = value.split('|');
    if (values.some((v) => !v)) return refuse(name, `${name} has an empty value`);
    if (field === 'action') {
      const bad = values.find((v) => !['ADD', 'OBSERVE', 'DELETE'].includes(v));
      if (bad !== undefined) return refuse(name, `unknown action ${JSON.stringify(bad)}; one of ADD, OBSERVE, DELETE`);
    }
    // A value no event of ours carries is a valid filter that matches nothing, as the standard's semantics say.
    narrow(values.flatMap((v) => eventTypesWith(field, v)));
  }

  const times: Record<string, string> = {};
  for (const name of ['GE_eventTime', 'LT_eventTime']) {
    const value = one(name);
    if (value === undefined) continue;
    if (!DATE_TIME.test(value) || Number.isNaN(Date.parse(value))) {
      return refuse(name, `${name} ${JSON.stringify(value.slice(0, 60))} is not a date-time with an offset, e.g. 2026-01-31T00:00:00Z`);
    }
    times[name] = new Date(value).toISOString();
  }

  let perPage = DEFAULT_PER_PAGE;
  const perPageText = one('perPage');
  if (perPageText !== undefined) {
    perPage = /^\d{1,4}$/.test(perPageText) ? Number(perPageText) : NaN;
    if (!(perPage >= 1 && perPage <= MAX_PER_PAGE)) return refuse('perPage', `perPage must be a whole number from 1 to ${MAX_PER_PAGE}, got ${JSON.stringify(perPageText.slice(0, 20))}`);
  }
  const nextPageToken = one('nextPageToken');
  if (nextPageToken !== undefined && !nextPageToken) return refuse('nextPageToken', 'nextPageToken is empty');

  return {
    ok: true,
    query: {
      code,
      ...(types ? { types } : {}),
      ...(times.GE_eventTime ? { occurredFrom: times.GE_eventTime } : {}),
      ...(times.LT_eventTime ? { occurredBefore: times.LT_eventTime } : {}),
      perPage,
      ...(nextPageToken ? { nextPageToken } : {}),
    },
  };
}

function refuse(parameter: string, detail: string): ParsedQuery {
  return { ok: false, parameter, detail };
}
