import type { ServerResponse } from 'node:http';

/**
 * Refusals as RFC 7807 problem documents, typed with the EPCIS 2.0 REST binding's exception names
 * (`epcisException:QueryParameterException`...), plus our stable `code` and whatever names the culprit:
 * the query parameter, or the event (index and eventID) and the field.
 */
export interface EpcisProblem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** The registry's own code (GraphQL's `extensions.code` when the refusal came from there). */
  code: string;
  parameter?: string;
  /** For capture: which event (0-based index in eventList, and its eventID when it has one) and which field. */
  event?: { index: number; eventID?: string };
  field?: string;
  /** Schema failures or per-event refusals, each naming its place. */
  problems?: Record<string, unknown>[];
}

const TITLES: Record<string, string> = {
  QueryParameterException: 'a query parameter is not supported or not valid',
  ValidationException: 'the document was refused; nothing was recorded',
  SecurityException: 'not allowed',
  NoSuchResourceException: 'no such resource',
  CaptureLimitExceededException: 'too many events in one document',
  UnsupportedMediaTypeException: 'unsupported media type',
  ImplementationException: 'the registry could not answer',
};

/** `exception` is one of the binding's names; a refusal the binding has no name for (405) is `about:blank` (RFC 7807). */
export function problem(exception: string, status: number, code: string, detail: string, more: Partial<EpcisProblem> = {}): EpcisProblem {
  const title = TITLES[exception];
  return { type: title ? `epcisException:${exception}` : 'about:blank', title: title ?? exception, status, detail, code, ...more };
}

export function sendProblem(res: ServerResponse, value: EpcisProblem, headers: Record<string, string> = {}): void {
  res.writeHead(value.status, { 'content-type': 'application/problem+json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...EPCIS_HEADERS, ...headers });
  res.end(JSON.stringify(value));
}

/** Sent with every EPCIS answer, as the REST binding asks. */
export const EPCIS_HEADERS = { 'GS1-EPCIS-Version': '2.0.0', 'GS1-CBV-Version': '2.0.0' };

/**
 * A GraphQL error's code → HTTP status and exception type. Rights and limits are decided by GraphQL
 * (the access policy, the limits plugin); this only says how their answer reads over REST.
 */
export function problemOfGraphQLError(code: string, message: string, more: Partial<EpcisProblem> = {}, retryAfter?: string): { problem: EpcisProblem; headers: Record<string, string> } {
  const headers: Record<string, string> = retryAfter ? { 'retry-after': retryAfter } : {};
  switch (code) {
    case 'UNAUTHENTICATED':
      return { problem: problem('SecurityException', 401, code, message, more), headers: { ...headers, 'www-authenticate': 'Bearer realm="robot-registry"' } };
    case 'FORBIDDEN':
      return { problem: problem('SecurityException', 403, code, message, more), headers };
    case 'RATE_LIMITED':
    case 'TOO_MANY_IN_FLIGHT':
      return { problem: problem('ImplementationException', 429, code, message, more), headers };
    case 'REGISTRY_UNAVAILABLE':
      return { problem: problem('ImplementationException', 503, code, message, more), headers };
    case 'UNKNOWN_COUNTRY':
    case 'UNKNOWN_UNIT':
      return { problem: problem(more.event ? 'ValidationException' : 'NoSuchResourceException', more.event ? 400 : 404, code, message, more), headers };
    case 'EVENT_REFUSED':
    case 'EVENT_CONFLICT':
      return { problem: problem('ValidationException', 409, code, message, more), headers };
    case 'INTERNAL_SERVER_ERROR':
      return { problem: problem('ImplementationException', 500, code, message, more), headers };
    default:
      return { problem: problem(more.parameter !== undefined ? 'QueryParameterException' : 'ValidationException', 400, code, message, more), headers };
  }
}
