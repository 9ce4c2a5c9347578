import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * What travels with every request from the gateway to the subgraphs. Access control will fill in
 * `caller`; subgraphs read it from here and nowhere else, so adding it reshapes no resolver.
 */
export interface RequestContext {
  requestId: string;
  caller: Caller | null;
}

export interface Caller {
  id: string;
  roles: string[];
}

export const REQUEST_ID_HEADER = 'x-request-id';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Keeps a caller-supplied request id only when it is harmless to log; otherwise makes one. */
export function requestContextFromHeaders(headers: IncomingHttpHeaders): RequestContext {
  const given = headers[REQUEST_ID_HEADER];
  const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  return { requestId, caller: null };
}

/** Headers a gateway adds to each subgraph request so the context arrives intact. */
export function requestContextHeaders(context: RequestContext): Record<string, string> {
  return { [REQUEST_ID_HEADER]: context.requestId };
}
