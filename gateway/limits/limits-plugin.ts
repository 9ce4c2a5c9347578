import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import type { FragmentDefinitionNode, ValidationRule } from 'graphql';
import { Kind } from 'graphql';
import type { RequestContext } from '../../lib/server/request-context.js';
import { CallerConcurrency } from './caller-concurrency.js';
import { formatLimitErrors, limitError } from './limit-error.js';
import type { LimitsConfig } from './limits-config.js';
import { operationCost } from './operation-cost.js';
import { queryShapeRules } from './query-shape-rules.js';
import { CallerRateLimiter } from './rate-limiter.js';
import { asksForIntrospection, refuseIntrospection, withoutSuggestions } from './schema-privacy.js';
import { checkTextInputs } from './text-input-check.js';

/** The gateway's request context plus the client address the HTTP layer saw. */
export type LimitsContext = RequestContext & { clientAddress?: string };

export interface GatewayLimits {
  /** For ApolloServer's `parseOptions`: parsing stops at the token limit. */
  parseOptions: { maxTokens: number };
  validationRules: ValidationRule[];
  plugins: ApolloServerPlugin<LimitsContext>[];
  /** Wraps the server's formatError so limit refusals keep their code and numbers. */
  formatError: typeof formatLimitErrors;
  close(): Promise<void>;
}

/**
 * Everything that refuses an abusive request, all before the query plan runs (so before any subgraph
 * call): shape rules at validation, then per request, in order: introspection, control characters,
 * cost and codes, the caller's rate budget, the caller's share of concurrency.
 */
export function gatewayLimits(config: LimitsConfig, registryCount: () => number): GatewayLimits {
  const rates = new CallerRateLimiter(config);
  const concurrency = new CallerConcurrency(config.maxInFlightPerCaller);
  // A slot is released when the answer goes out, or when the request fails unexpectedly.
  const slots = new WeakMap<object, () => void>();
  const anonymousHidden = (ctx: LimitsContext) => config.hideSchemaFromAnonymous && !ctx.caller;

  const plugin: ApolloServerPlugin<LimitsContext> = {
    async requestDidStart() {
      return {
        async validationDidStart({ contextValue }) {
          return async (errors) => {
            if (errors && anonymousHidden(contextValue)) withoutSuggestions(errors);
          };
        },
        async didResolveOperation(request: GraphQLRequestContext<LimitsContext>) {
          const { document, operation, schema, contextValue: ctx } = request;
          if (!document || !operation) return;
          const variables = request.request.variables ?? {};
          if (anonymousHidden(ctx) && asksForIntrospection(document)) refuseIntrospection();
          checkTextInputs(document, variables);
          const fragments: Record<string, FragmentDefinitionNode> = {};
          for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
          const priced = operationCost(schema, operation, fragments, variables, registryCount());
          if (priced.largest.items > config.maxItemsPerField) {
            throw limitError('LIMIT_EXCEEDED', `field "${priced.largest.path}" would be fetched for ${priced.largest.items} items (list sizes multiplied through its nesting); at most ${config.maxItemsPerField}`, {
              limit: 'ITEMS_PER_FIELD', max: config.maxItemsPerField, actual: priced.largest.items, field: priced.largest.path,
            });
          }
          if (priced.codes > config.maxCodesPerRequest) {
            throw limitError('LIMIT_EXCEEDED', `the request names ${priced.codes} codes across its fields and aliases; at most ${config.maxCodesPerRequest}`, {
              limit: 'CODES_PER_REQUEST', max: config.maxCodesPerRequest, actual: priced.codes,
            });
          }
          if (priced.cost > config.maxCost) {
            throw limitError('QUERY_TOO_COSTLY', `estimated cost ${priced.cost} is over the budget of ${config.maxCost} items per request`, { max: config.maxCost, actual: priced.cost });
          }
          const subject = ctx.caller?.subject ?? null;
          const address = ctx.clientAddress ?? 'unknown';
          await rates.consume({ subject, address }, Math.max(1, priced.codes));
          slots.set(ctx, concurrency.acquire(subject !== null ? `subject:${subject}` : `address:${address}`));
        },
        async willSendResponse({ contextValue }) {
          slots.get(contextValue)?.();
        },
      };
    },
    async unexpectedErrorProcessingRequest({ requestContext }) {
      slots.get(requestContext.contextValue)?.();
    },
  };
  return {
    parseOptions: { maxTokens: config.maxTokens },
    validationRules: queryShapeRules(config),
    plugins: [plugin],
    formatError: formatLimitErrors,
    close: () => rates.close(),
  };
}
