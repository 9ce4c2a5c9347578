import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { findClientDataProblem } from '../database/data-exception.js';
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

/**
 * A refusal that names its own 4xx status (the gateway's limits: RATE_LIMITED, QUERY_TOO_COSTLY...), on the
 * error or the one it wraps: the client's doing, whatever its code.
 */
function refusalCode(error: GraphQLError): string | undefined {
  for (const e of [error, error.originalError as GraphQLError | undefined]) {
    const status = (e?.extensions?.http as { status?: unknown } | undefined)?.status;
    const code = e?.extensions?.code;
    if (typeof status === 'number' && status >= 400 && status < 500 && typeof code === 'string') return code;
  }
  return undefined;
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
    // A value the database refused (a NUL byte, say) is the client's mistake: say which kind, not the SQL.
    const dataProblem = findClientDataProblem(error);
    if (dataProblem) return { message: dataProblem, ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: 'BAD_USER_INPUT' } };
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

export interface LogRequestErrorsOptions {
  /**
   * Level of a client's own mistake: `info` where the client is met (the gateway), `debug` in a subgraph,
   * whose caller (a gateway) logs the same mistake with the same request id: one line per mistake.
   */
  clientErrors?: 'info' | 'debug';
}

/**
 * Logs each error of a response through the request's logger, so the line carries the request id:
 * the ones `maskInternalErrors` hides at error with the error itself, the client's own without a stack.
 * Also keeps the response's error codes on the context for the access line, and answers an unknown
 * operation name as the client's mistake (the gateway would otherwise fail it as an internal error).
 */
export function logRequestErrors<TContext extends { log?: Logger; errorCodes?: string[] }>(options: LogRequestErrorsOptions = {}): ApolloServerPlugin<TContext> {
  const clientLevel = options.clientErrors ?? 'info';
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, request }) {
          if (operation) return;
          const name = request.operationName;
          throw new GraphQLError(name ? `the document has no operation named "${name.slice(0, 100)}"` : 'the document has several operations: name one (operationName)', {
            extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } },
          });
        },
        async didEncounterErrors({ errors, contextValue }) {
          const log = contextValue.log ?? rootLogger();
          for (const error of errors) logOne(log, error, clientLevel);
          for (const code of new Set(errors.map(publicCode))) if (contextValue.errorCodes && !contextValue.errorCodes.includes(code) && contextValue.errorCodes.length < 5) contextValue.errorCodes.push(code);
        },
      };
    },
  };
}

/** The code the client sees for an error (as maskInternalErrors decides), for the access line. */
function publicCode(error: GraphQLError): string {
  if (findDatabaseUnavailable(error)) return 'REGISTRY_UNAVAILABLE';
  if (findClientDataProblem(error)) return 'BAD_USER_INPUT';
  const code = error.extensions?.code;
  return refusalCode(error) ?? (isOurs(code) ? code : 'INTERNAL_SERVER_ERROR');
}

function logOne(log: Logger, error: GraphQLError, clientLevel: 'info' | 'debug'): void {
  const code = error.extensions?.code;
  const path = error.path?.join('.');
  const unavailable = findDatabaseUnavailable(error);
  if (unavailable) return void log.warn({ err: unavailable, path, writeOutcome: unavailable.outcome }, 'database unavailable');
  // The cause of an unavailable dependency is logged where the call failed; this is the request's view.
  if (code === 'REGISTRY_UNAVAILABLE') return void log.warn({ code, path }, error.message);
  const dataProblem = findClientDataProblem(error);
  if (dataProblem) return void log[clientLevel]({ code: 'BAD_USER_INPUT', path }, dataProblem);
  const refused = refusalCode(error);
  if (refused) return void log[clientLevel]({ code: refused, path }, error.message);
  if (isOurs(code)) return void log[clientLevel]({ code, path }, error.message);
  const service = error.extensions?.serviceName;
  log.error({ err: unwrapResolverError(error), path, ...(service ? { subgraph: service } : {}) }, 'internal error');
}
