import { visit, type DocumentNode } from 'graphql';
import { limitError } from './limit-error.js';

/** True when the document asks for `__schema` or `__type` (`__typename` is not introspection). */
export function asksForIntrospection(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(node) {
      if (node.name.value === '__schema' || node.name.value === '__type') found = true;
    },
  });
  return found;
}

export function refuseIntrospection(): never {
  throw limitError('INTROSPECTION_DISABLED', 'introspection is available to signed-in callers only');
}

const SUGGESTION = / ?Did you mean .*\?$/;

/** Drops graphql-js's "Did you mean ...?" hints, which would otherwise spell out the schema bit by bit. */
export function withoutSuggestions(errors: readonly Error[]): void {
  for (const error of errors) error.message = error.message.replace(SUGGESTION, '');
}

