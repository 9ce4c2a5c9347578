import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLError, GraphQLFormattedError } from 'graphql';
import { findDatabaseUnavailable } from '../database/database-unavailable.js';
import { REGISTRY_ERROR_CODES } from '../errors.js';
import { rootLogger, type Logger } from '../logging/logger.js';

/**
 * Errors we raise on purpose carry an `extensions.code` of ours; anything else is a bug or an
 * infrastructure failure whose message may leak SQL, hosts or stack traces, so clients get a generic
 * message and the log gets the detail (`logRequestErrors`, which knows the request id).
 */
const OURS = new Set<string>([
  ...REGISTRY_ERROR_CODES,
  // Apollo's own request-level codes are safe and useful to clients.
  'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'PERSISTED_QUERY_NOT_FOUND', 'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
]);

function isOurs(code: unknown): code is string {
  return typeof code === 'string' && OURS.has(code);
}

/** Apollo's formatError: masking only. It gets no request context, so it logs nothing. */
export function maskInternalErrors() {
  return (formatted: GraphQLFormattedError, error?: unknown): GraphQLFormattedError => {
    // A lost database is not a bug: say so (without host or SQL), and whether the write may have been saved.
    const unavailable = findDatabaseUnavailable(error);
    if (unavailable) {
      return {
        message: unavailable.publicMessage,
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: 'REGISTRY_UNAVAILABLE', writeOutcome: unavailable.outcome },
      };
    }
    if (isOurs(formatted.extensions?.code)) {
      // serviceName is gateway topology, not something a client should code against.
      const { stacktrace: _stack, serviceName: _service, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    return {
      message: 'internal error in the registry; the request id identifies it in the logs',
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}

/**
 * Logs each error of a response through the request's logger, so the line carries the request id:
 * the ones `maskInternalErrors` hides at error with the error itself, the client's own at info.
 */
export function logRequestErrors<TContext extends { log?: Logger }>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          const log = contextValue.log ?? rootLogger();
          for (const error of errors) logOne(log, error);
        },
      };
    },
  };
}

function logOne(log: Logger, error: GraphQLError): void {
  const code = error.extensions?.code;
  const path = error.path?.join('.');
  const unavailable = findDatabaseUnavailable(error);
  if (unavailable) return void log.warn({ err: unavailable, path, writeOutcome: unavailable.outcome }, 'database unavailable');
  // The cause of an unavailable dependency is logged where the call failed; this is the request's view.
  if (code === 'REGISTRY_UNAVAILABLE') return void log.warn({ code, path }, error.message);
  if (isOurs(code)) return void log.info({ code, path }, error.message);
  const service = error.extensions?.serviceName;
  log.error({ err: unwrapResolverError(error), path, ...(service ? { subgraph: service } : {}) }, 'internal error');
}
