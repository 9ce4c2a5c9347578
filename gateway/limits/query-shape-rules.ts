import type { GraphQLError, ValidationContext, ValidationRule } from 'graphql';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { limitError, type LimitCode } from './limit-error.js';
import type { LimitsConfig } from './limits-config.js';

/**
 * Depth, alias and directive limits from GraphQL Armor, as validation rules: they run on the parsed
 * document before any plan or fetch. Armor reports through `onReject`; we re-raise with our code and
 * its numbers (Armor's message carries the count it found: "... limit of N exceeded, found M.").
 */
export function queryShapeRules(config: Pick<LimitsConfig, 'maxDepth' | 'maxAliases' | 'maxDirectives'>): ValidationRule[] {
  const report = (code: LimitCode, what: string, max: number) => [
    (context: ValidationContext | null, error: GraphQLError) => {
      const actual = Number(/found (\d+)/.exec(error.message)?.[1] ?? NaN);
      context?.reportError(limitError(code, `${what} ${actual} is over the limit of ${max}`, { max, actual }));
    },
  ];
  const common = { exposeLimits: true, propagateOnRejection: false };
  return [
    maxDepthRule({ ...common, n: config.maxDepth, onReject: report('QUERY_TOO_DEEP', 'query depth', config.maxDepth) }),
    maxAliasesRule({ ...common, n: config.maxAliases, onReject: report('TOO_MANY_ALIASES', 'aliases', config.maxAliases) }),
    maxDirectivesRule({ ...common, n: config.maxDirectives, onReject: report('TOO_MANY_DIRECTIVES', 'directives', config.maxDirectives) }),
  ] as ValidationRule[];
}
