import type { GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { REGISTRY_ERROR_CODES } from '../errors.js';

/**
 * Errors we raise on purpose carry an `extensions.code` of ours; anything else is a bug or an
 * infrastructure failure whose message may leak SQL, hosts or stack traces, so clients get a generic
 * message and the log gets the detail.
 */
const OURS = new Set<string>([
  ...REGISTRY_ERROR_CODES,
  // Apollo's own request-level codes are safe and useful to clients.
  'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'PERSISTED_QUERY_NOT_FOUND', 'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
]);

export function maskInternalErrors(service: string) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && OURS.has(code)) {
      // serviceName is gateway topology, not something a client should code against.
      const { stacktrace: _stack, serviceName: _service, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    console.error(`[${service}] internal error`, unwrapResolverError(error));
    return {
      message: 'internal error in the registry; the request id identifies it in the logs',
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}
