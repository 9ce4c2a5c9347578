/**
 * A request refused before GraphQL runs (bad credentials, say): the HTTP server answers it with this
 * status and a GraphQL error body carrying `code`, and nothing executes.
 */
export class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpRefusal';
  }
}

/** 401: the credentials presented are missing something, invalid, expired or unknown. */
export function unauthenticated(message: string): HttpRefusal {
  // RFC 6750: a 401 names the scheme the client should use.
  return new HttpRefusal(401, 'UNAUTHENTICATED', message, { 'www-authenticate': 'Bearer realm="robot-registry", error="invalid_token"' });
}
