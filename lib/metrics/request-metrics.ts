import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type GraphQLError, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { graphqlDuration, graphqlRequests, httpRequests, limitRejections, metricsEnabled } from './registry.js';

/**
 * Requests by operation and outcome, and their latency, as an Apollo plugin (one per server). The
 * operation label is the first root field asked when the schema has it, else "other": the client's
 * operation name is free text and would make the label unbounded.
 */
export function requestMetricsPlugin(service: string): ApolloServerPlugin {
  if (!metricsEnabled) return {};
  return {
    async requestDidStart({ schema }) {
      const started = performance.now();
      let operation = 'other';
      return {
        async didResolveOperation({ operation: node }) {
          if (node) operation = rootField(schema, node);
        },
        async didEncounterErrors({ errors }) {
          for (const error of errors) {
            const limit = limitOf(error);
            if (limit) limitRejections.inc({ limit });
          }
        },
        async willSendResponse({ response }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          graphqlRequests.inc({ service, operation, outcome: outcomeOf(errors?.map((e) => e.extensions?.code)) });
          graphqlDuration.observe({ service, operation }, (performance.now() - started) / 1000);
        },
      };
    },
  };
}

/** One line in the HTTP server's access log: the route is one of four, so the label stays bounded. */
export function countHttpRequest(service: string, path: string | undefined, status: number): void {
  if (!metricsEnabled) return;
  const route = path === '/graphql' || path === '/metrics' ? path : path?.startsWith('/health/') ? '/health' : 'other';
  httpRequests.inc({ service, route, status: String(status) });
}

function rootField(schema: GraphQLSchema, operation: OperationDefinitionNode): string {
  const type = operation.operation === 'mutation' ? schema.getMutationType() : operation.operation === 'query' ? schema.getQueryType() : null;
  const first = operation.selectionSet.selections.find((s) => s.kind === Kind.FIELD && s.name.value !== '__typename');
  const name = first?.kind === Kind.FIELD ? first.name.value : undefined;
  return name && type?.getFields()[name] ? name : 'other';
}

const LIMITS = new Set(['QUERY_TOO_DEEP', 'TOO_MANY_ALIASES', 'TOO_MANY_DIRECTIVES', 'TOO_MANY_TOKENS', 'QUERY_TOO_COSTLY', 'RATE_LIMITED', 'TOO_MANY_IN_FLIGHT', 'INTROSPECTION_DISABLED']);
const LIST_LIMITS = new Set(['ITEMS_PER_FIELD', 'CODES_PER_REQUEST']);

function limitOf(error: GraphQLError): string | undefined {
  const { code, limit } = error.extensions ?? {};
  if (typeof code !== 'string') return undefined;
  if (LIMITS.has(code)) return code;
  if (code === 'LIMIT_EXCEEDED') return typeof limit === 'string' && LIST_LIMITS.has(limit) ? limit : 'LIMIT_EXCEEDED';
  return undefined;
}

function outcomeOf(codes: unknown[] | undefined): string {
  if (!codes?.length) return 'ok';
  if (codes.includes('INTERNAL_SERVER_ERROR')) return 'error';
  if (codes.includes('REGISTRY_UNAVAILABLE')) return 'unavailable';
  return 'client_error';
}
