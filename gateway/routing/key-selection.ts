import { Kind, parse, print, visit, type DocumentNode, type FieldNode, type InlineFragmentNode } from 'graphql';
import { KEY_ALIAS, TYPE_ALIAS } from './key-matching.js';

/** The key field of each entity type: `country` for Registry, `code` for every other. */
export function keyFieldOf(typename: string): string {
  return typename === 'Registry' ? 'country' : 'code';
}

/** Rewritten queries, by original query: the gateway sends the same few fetches over and over. */
const cache = new Map<string, { query: string; document: DocumentNode }>();
const CACHE_SIZE = 500;

/**
 * The `_entities` fetch with, for each type asked, `... on T { __gatewayKey: <key> __gatewayType:
 * __typename }` added: every entry then says which entity it is, whatever the gateway's own selection.
 */
export function withEntityKeys(query: string, document: DocumentNode | undefined, typenames: string[]): { query: string; document: DocumentNode } {
  const types = [...new Set(typenames)].sort();
  return cached(`${types.join(',')}\n${query}`, () =>
    visit(document ?? parse(query), {
      Field(field) {
        if (field.name.value !== '_entities' || !field.selectionSet) return undefined;
        const fragments = types.map((type): InlineFragmentNode => ({
          kind: Kind.INLINE_FRAGMENT,
          typeCondition: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: type } },
          selectionSet: { kind: Kind.SELECTION_SET, selections: [aliased(KEY_ALIAS, keyFieldOf(type)), aliased(TYPE_ALIAS, '__typename')] },
        }));
        return { ...field, selectionSet: { ...field.selectionSet, selections: [...field.selectionSet.selections, ...fragments] } };
      },
    }),
  );
}

/** A root field that returns an entity, also selecting its `code` under the gateway's alias. */
export function withRootKey(field: FieldNode): FieldNode {
  if (!field.selectionSet) return field;
  return { ...field, selectionSet: { ...field.selectionSet, selections: [...field.selectionSet.selections, aliased(KEY_ALIAS, 'code')] } };
}

/** Prints a rewritten root document once per original query. */
export function printedOnce(query: string, build: () => DocumentNode): { query: string; document: DocumentNode } {
  return cached(`root\n${query}`, build);
}

function cached(key: string, build: () => DocumentNode): { query: string; document: DocumentNode } {
  let hit = cache.get(key);
  if (!hit) {
    const document = build();
    hit = { query: print(document), document };
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(key, hit);
  }
  return hit;
}

function aliased(alias: string, name: string): FieldNode {
  return { kind: Kind.FIELD, alias: { kind: Kind.NAME, value: alias }, name: { kind: Kind.NAME, value: name } };
}
