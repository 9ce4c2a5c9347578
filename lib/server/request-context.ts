import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { rootLogger, type Logger } from '../logging/logger.js';

/**
 * What travels with every request from the gateway to the subgraphs. Access control fills in
 * `caller`; subgraphs read it from here and nowhere else, so adding it reshapes no resolver.
 */
export interface RequestContext {
  requestId: string;
  caller: Caller | null;
  /** A child of the process logger carrying the request id (and caller): log through this, not the root. */
  log: Logger;
  /**
   * The error codes of the response as the client saw them, for the access line (lib/server/mask-errors.ts
   * adds them). One array shared by every copy of the context: Apollo works on a shallow copy.
   */
  errorCodes?: string[];
}

/** The roles of the design's "Who uses it" table. A caller without a role is anonymous. */
export const ROLES = ['authority', 'manufacturer', 'customs', 'partner', 'analyst'] as const;
export type Role = (typeof ROLES)[number];

export interface Caller {
  /** Who: a token's `sub`, an API key's name, or `node:<country>` for a node's own internal calls. */
  subject: string;
  role: Role | null;
  /** The enterprise code (6 characters) a manufacturer acts for. */
  enterprise?: string;
  /** The country segment a customs officer or partner acts for. */
  country?: string;
}

export const REQUEST_ID_HEADER = 'x-request-id';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Keeps a caller-supplied request id only when it is harmless to log; otherwise makes one. */
export function requestContextFromHeaders(headers: IncomingHttpHeaders, log: Logger = rootLogger()): RequestContext {
  const given = headers[REQUEST_ID_HEADER];
  const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  return { requestId, caller: null, log: log.child({ requestId }), errorCodes: [] };
}

/** Headers a gateway adds to each subgraph request so the context arrives intact. */
export function requestContextHeaders(context: Pick<RequestContext, 'requestId'>): Record<string, string> {
  return { [REQUEST_ID_HEADER]: context.requestId };
}
