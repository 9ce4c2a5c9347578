import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { HeaderMap } from '@apollo/server';

/** The stable codes of a request refused by a limit; clients branch on these, never on messages. */
export const LIMIT_CODES = [
  'QUERY_TOO_DEEP',
  'TOO_MANY_ALIASES',
  'TOO_MANY_DIRECTIVES',
  'TOO_MANY_TOKENS',
  'QUERY_TOO_COSTLY',
  /** The project's code for a list over its size; `limit` says which (ITEMS_PER_FIELD, CODES_PER_REQUEST). */
  'LIMIT_EXCEEDED',
  'RATE_LIMITED',
  'TOO_MANY_IN_FLIGHT',
  'INTROSPECTION_DISABLED',
] as const;
export type LimitCode = (typeof LIMIT_CODES)[number];

const CODES = new Set<string>(LIMIT_CODES);

/** A refusal with its numbers in `extensions` (`{ code, max, actual }`) and the HTTP status to answer. */
export function limitError(
  code: LimitCode | 'BAD_USER_INPUT',
  message: string,
  numbers: Record<string, unknown> = {},
  http: { status: number; retryAfterSeconds?: number } = { status: 400 },
): GraphQLError {
  const headers = new HeaderMap();
  if (http.retryAfterSeconds !== undefined) headers.set('retry-after', String(http.retryAfterSeconds));
  return new GraphQLError(message, { extensions: { code, ...numbers, http: { status: http.status, headers } } });
}

// graphql-js spells it "more that N tokens" (16.x); accept the corrected spelling too.
const TOKEN_LIMIT = /^Syntax Error: Document contains more tha[nt] (\d+) tokens/;

/**
 * Apollo re-labels validation-rule errors GRAPHQL_VALIDATION_FAILED and parse aborts GRAPHQL_PARSE_FAILED;
 * this puts the limit's own code back (and lets it past the internal-error mask) before `next` runs.
 */
export function formatLimitErrors(next: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = (error as { originalError?: unknown })?.originalError ?? error;
    const code = (original as GraphQLError | undefined)?.extensions?.code;
    if (typeof code === 'string' && CODES.has(code)) {
      // serviceName: gateway topology, dropped as for every other error (lib/server/mask-errors.ts).
      const { stacktrace: _s, http: _h, serviceName: _service, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions: { ...extensions, code } };
    }
    const tokens = TOKEN_LIMIT.exec(formatted.message);
    if (tokens && formatted.extensions?.code === 'GRAPHQL_PARSE_FAILED') {
      return { message: `query has more than ${tokens[1]} tokens`, extensions: { code: 'TOO_MANY_TOKENS', max: Number(tokens[1]) } };
    }
    return next(formatted, error);
  };
}
