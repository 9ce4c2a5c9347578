import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, Kind, visit, type DocumentNode } from 'graphql';
import { MAX_ENTITY_REPRESENTATIONS } from '../limits/request-limits.js';

/**
 * Refuses an operation whose `_entities` fields ask for more representations, in total, than any query
 * the gateway accepts can need; checked once the operation is known, before any resolver runs.
 */
export function entityLimitPlugin(max = MAX_ENTITY_REPRESENTATIONS): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request }) {
          const count = countRepresentations(document, request.variables ?? {});
          if (count > max) {
            throw new GraphQLError(`_entities takes at most ${max} representations, got ${count}`, {
              extensions: { code: 'LIMIT_EXCEEDED', max, http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}

/** Sums every `_entities(representations:)` in the document, aliases included, variables or literals. */
export function countRepresentations(document: DocumentNode, variables: Record<string, unknown>): number {
  let total = 0;
  visit(document, {
    Field(field) {
      if (field.name.value !== '_entities') return;
      const arg = field.arguments?.find((a) => a.name.value === 'representations');
      if (!arg) return;
      const value = arg.value;
      if (value.kind === Kind.VARIABLE) {
        const given = variables[value.name.value];
        total += Array.isArray(given) ? given.length : given == null ? 0 : 1;
      } else total += value.kind === Kind.LIST ? value.values.length : 1;
    },
  });
  return total;
}
