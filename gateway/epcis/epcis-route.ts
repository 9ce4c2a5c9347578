import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import type { Logger } from '../../lib/logging/logger.js';
import { HttpRefusal } from '../../lib/server/http-refusal.js';
import { readBody } from '../../lib/server/read-body.js';
import { requestContextFromHeaders } from '../../lib/server/request-context.js';
import type { Authenticate } from '../identity/authenticate.js';
import { operationRefusal } from '../in-process/operation-refusal.js';
import type { LimitsContext } from '../limits/limits-plugin.js';
import { mapCaptureDocument, MAX_CAPTURE_EVENTS, type LifecycleEventInput } from './epcis-capture.js';
import { objectEventOf, queryDocument, type RegistryEvent } from './epcis-document.js';
import { EPCIS_HEADERS, problem, problemOfGraphQLError, sendProblem, type EpcisProblem } from './epcis-problem.js';
import { parseEventsQuery, type EventsQuery } from './epcis-query.js';
import { epcisSchemaProblems, validator } from './epcis-schema.js';

export interface EpcisRouteOptions {
  apollo: ApolloServer<LimitsContext>;
  /** The base units are written under (`<PUBLIC_URL>/id/<code>`), as the passport resolver uses it. */
  publicUrl: () => string;
  /** The gateway's own authentication (the same as /graphql's); absent, every caller is anonymous. */
  authenticate?: Authenticate;
  log: Logger;
}

/** Request bodies above this are refused before parsing, as on /graphql. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

/**
 * EPCIS 2.0 over the gateway's own GraphQL (docs/epcis.md): GET /epcis/events reads one unit's history as
 * an EPCISQueryDocument, POST /epcis/capture records an EPCISDocument's ObjectEvents with recordEvents.
 * Both run as the caller, through apollo.executeOperation, so rights, limits, routing to partner
 * registries and the audit log apply exactly as on /graphql. For http-server's `routes` hook.
 */
export function epcisRoutes(options: EpcisRouteOptions) {
  validator(); // compiled once, before the first request: a missing vendor/ file fails start-up, not a capture
  return async function epcisRoute(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/epcis' && !url.pathname.startsWith('/epcis/')) return false;
    const route = url.pathname === '/epcis/events' ? 'events' : url.pathname === '/epcis/capture' ? 'capture' : null;
    if (!route) {
      sendProblem(res, problem('NoSuchResourceException', 404, 'NOT_FOUND', `no EPCIS resource ${url.pathname.slice(0, 100)}; this registry serves GET /epcis/events and POST /epcis/capture`));
      return true;
    }
    const allowed = route === 'events' ? ['GET', 'HEAD'] : ['POST'];
    if (!allowed.includes(req.method ?? '')) {
      sendProblem(res, problem('method not allowed', 405, 'METHOD_NOT_ALLOWED', `/epcis/${route} answers ${allowed.join(' and ')} only`), { allow: allowed.join(', ') });
      return true;
    }
    const context: LimitsContext = { ...requestContextFromHeaders(req.headers, options.log), clientAddress: req.socket.remoteAddress };
    res.setHeader('x-request-id', context.requestId);
    try {
      context.caller = options.authenticate ? await options.authenticate(req) : null;
    } catch (error) {
      if (!(error instanceof HttpRefusal)) throw error;
      sendProblem(res, problem('SecurityException', error.status, error.code, error.message), error.headers);
      return true;
    }
    if (context.caller) context.log = context.log.child({ subject: context.caller.subject, role: context.caller.role });
    if (route === 'events') await readEvents(options, url, context, res);
    else await capture(options, req, context, res);
    return true;
  };
}

const EVENTS_OPERATION = /* GraphQL */ `
  query EpcisEvents($code: ID!, $first: Int!, $after: String, $filter: EventFilter) {
    unit(code: $code) {
      code
      events(first: $first, after: $after, filter: $filter) {
        pageInfo { hasNextPage endCursor }
        edges { node { eventId type occurredAt recordedAt stateAfter owner country recall note } }
      }
    }
  }
`;

interface EventsData {
  unit: { code: string; events: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: RegistryEvent }[] } | null } | null;
}

async function readEvents(options: EpcisRouteOptions, url: URL, context: LimitsContext, res: ServerResponse): Promise<void> {
  const publicUrl = options.publicUrl();
  const parsed = parseEventsQuery(url.searchParams, publicUrl);
  if (!parsed.ok) return sendProblem(res, problem('QueryParameterException', 400, 'BAD_QUERY_PARAMETER', parsed.detail, { parameter: parsed.parameter }));
  const query = parsed.query;
  const answer = await run<EventsData>(options, context, EVENTS_OPERATION, 'EpcisEvents', {
    code: query.code,
    first: query.perPage,
    after: query.nextPageToken ?? null,
    filter: filterOf(query),
  });
  if ('refused' in answer) {
    const { problem: refusal, headers } = problemOfGraphQLError(answer.code, answer.message, {}, answer.retryAfter);
    // A bad page token is the one argument GraphQL can refuse that the query string supplied.
    if (refusal.status === 400) Object.assign(refusal, { type: 'epcisException:QueryParameterException', title: 'a query parameter is not supported or not valid', ...(query.nextPageToken ? { parameter: 'nextPageToken' } : {}) });
    return sendProblem(res, refusal, headers);
  }
  const unit = answer.data.unit;
  if (!unit?.events) return sendProblem(res, problem('NoSuchResourceException', 404, 'NOT_REGISTERED', `unit ${query.code} is not registered`));
  const events = unit.events.edges.map((edge) => objectEventOf(publicUrl, unit.code, edge.node));
  const headers: Record<string, string> = { 'content-type': 'application/ld+json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...EPCIS_HEADERS };
  const next = unit.events.pageInfo.hasNextPage && unit.events.pageInfo.endCursor;
  if (next) {
    const params = new URLSearchParams(url.searchParams);
    params.set('nextPageToken', next);
    // Built from PUBLIC_URL, never from the request's Host header.
    headers.link = `<${publicUrl}/epcis/events?${params.toString()}>; rel="next"`;
  }
  res.writeHead(200, headers);
  res.end(JSON.stringify(queryDocument(events, new Date())));
}

function filterOf(query: EventsQuery): Record<string, unknown> | null {
  const filter = {
    ...(query.types ? { types: query.types } : {}),
    ...(query.occurredFrom ? { occurredFrom: query.occurredFrom } : {}),
    ...(query.occurredBefore ? { occurredBefore: query.occurredBefore } : {}),
  };
  return Object.keys(filter).length ? filter : null;
}

const CAPTURE_OPERATION = /* GraphQL */ `
  mutation EpcisCapture($events: [LifecycleEventInput!]!) {
    recordEvents(events: $events) { eventId sequence stateAfter }
  }
`;

async function capture(options: EpcisRouteOptions, req: IncomingMessage, context: LimitsContext, res: ServerResponse): Promise<void> {
  // Refused before the body is read: recordEvents needs a signed-in manufacturer or the authority.
  if (!context.caller) {
    res.setHeader('connection', 'close');
    return sendProblem(res, problem('SecurityException', 401, 'UNAUTHENTICATED', 'capture needs a credential: a manufacturer (for its own units) or the authority'), { 'www-authenticate': 'Bearer realm="robot-registry"' });
  }
  const behaviour = req.headers['gs1-capture-error-behaviour'];
  if (behaviour !== undefined && behaviour !== 'rollback') {
    return sendProblem(res, problem('ValidationException', 400, 'BAD_REQUEST', `GS1-Capture-Error-Behaviour ${JSON.stringify(String(behaviour).slice(0, 40))} is not supported: a document is recorded whole or not at all (rollback)`));
  }
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (type !== 'application/json' && type !== 'application/ld+json') {
    res.setHeader('connection', 'close');
    return sendProblem(res, problem('UnsupportedMediaTypeException', 415, 'UNSUPPORTED_MEDIA_TYPE', `send the EPCISDocument as application/json or application/ld+json, not ${JSON.stringify(type || '(none)')}`));
  }
  const bytes = Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES ? null : await readBody(req, MAX_BODY_BYTES);
  if (bytes === null) {
    res.setHeader('connection', 'close');
    return sendProblem(res, problem('CaptureLimitExceededException', 413, 'PAYLOAD_TOO_LARGE', `request body over the ${MAX_BODY_BYTES}-byte limit`));
  }
  let document: unknown;
  try {
    document = JSON.parse(bytes.toString('utf8'));
  } catch {
    return sendProblem(res, problem('ValidationException', 400, 'BAD_REQUEST', 'request body is not valid JSON'));
  }
  const schemaProblems = epcisSchemaProblems(document);
  if (schemaProblems.length) {
    const first = schemaProblems[0]!;
    return sendProblem(res, problem('ValidationException', 400, 'SCHEMA_INVALID', `the document does not validate against the EPCIS 2.0 JSON schema: ${first.pointer} ${first.message}`, { field: first.pointer, problems: schemaProblems as unknown as Record<string, unknown>[] }));
  }
  const doc = document as Record<string, unknown>;
  const eventList = ((doc.epcisBody as { eventList?: Record<string, unknown>[] } | undefined)?.eventList ?? []);
  if (eventList.length > MAX_CAPTURE_EVENTS) {
    return sendProblem(res, problem('CaptureLimitExceededException', 413, 'LIMIT_EXCEEDED', `the document has ${eventList.length} events; at most ${MAX_CAPTURE_EVENTS} per capture (send several documents)`));
  }
  const mapped = mapCaptureDocument(doc, options.publicUrl());
  if (!mapped.ok) {
    const first = mapped.refusals[0];
    const detail = first
      ? `${mapped.refusals.length} of ${eventList.length} events do not map; nothing was recorded. Event #${first.index}${first.eventID ? ` (${first.eventID})` : ''}, ${first.field}: ${first.message}`
      : `${mapped.field}: ${mapped.message}`;
    return sendProblem(res, problem('ValidationException', 400, 'EVENT_NOT_MAPPED', detail, {
      ...(first ? { event: { index: first.index, ...(first.eventID ? { eventID: first.eventID } : {}) }, field: first.field } : { field: mapped.field }),
      ...(mapped.refusals.length ? { problems: mapped.refusals as unknown as Record<string, unknown>[] } : {}),
    }));
  }
  const createdAt = new Date();
  const answer = await run<{ recordEvents: { eventId: string; sequence: number; stateAfter: string }[] }>(options, context, CAPTURE_OPERATION, 'EpcisCapture', { events: mapped.events });
  if ('refused' in answer) return sendProblem(res, ...captureRefusal(answer, mapped.events, eventList));
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...EPCIS_HEADERS });
  // The capture job of the REST binding, finished when answered: capture here is synchronous.
  res.end(JSON.stringify({
    captureID: context.requestId,
    createdAt: createdAt.toISOString(),
    finishedAt: new Date().toISOString(),
    running: false,
    success: true,
    captureErrorBehaviour: 'rollback',
    errors: [],
    events: answer.data.recordEvents.map((e, i) => ({ eventID: eventList[i]!.eventID, sequence: e.sequence, stateAfter: e.stateAfter })),
  }));
}

/** recordEvents' refusal, with each refused event named by its EPCIS eventID as well as its index. */
function captureRefusal(answer: Refused, inputs: LifecycleEventInput[], eventList: Record<string, unknown>[]): [EpcisProblem, Record<string, string>] {
  const refusals = Array.isArray(answer.extensions.refusals) ? (answer.extensions.refusals as { index: number; code: string; rule?: string; message: string }[]) : [];
  const problems = refusals.map((r) => ({ index: r.index, eventID: eventList[r.index]?.eventID, eventId: inputs[r.index]?.eventId, code: r.code, ...(r.rule ? { rule: r.rule } : {}), message: r.message }));
  const first = problems[0];
  const { problem: refusal, headers } = problemOfGraphQLError(answer.code, answer.message, {
    ...(first ? { event: { index: first.index, ...(typeof first.eventID === 'string' ? { eventID: first.eventID } : {}) } } : {}),
    ...(problems.length ? { problems } : {}),
  }, answer.retryAfter);
  return [refusal, headers];
}

interface Refused {
  refused: true;
  code: string;
  message: string;
  extensions: Record<string, unknown>;
  retryAfter?: string;
}

/** Runs one operation of the gateway's schema as the caller; any error refuses the whole answer. */
async function run<T>(options: EpcisRouteOptions, context: LimitsContext, query: string, operationName: string, variables: Record<string, unknown>): Promise<{ data: T } | Refused> {
  const response = await options.apollo.executeOperation({ query, operationName, variables }, { contextValue: context });
  const result = response.body.kind === 'single' ? response.body.singleResult : null;
  if (result?.data && !result.errors?.length) return { data: result.data as T };
  const { code, message, extensions, retryAfter } = operationRefusal(response);
  return { refused: true, code, message, extensions, retryAfter };
}
