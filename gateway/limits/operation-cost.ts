import {
  Kind,
  getNamedType,
  isInterfaceType,
  isObjectType,
  valueFromASTUntyped,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { CODE_ARGUMENT, LIST_SIZES, type ListSize } from './list-sizes.js';

export interface OperationCost {
  /** Estimated rows fetched: every object field's multiplied list size, summed (leaves and connection wrappers are free). */
  cost: number;
  /** Codes the request names or creates, each alias counted on its own. */
  codes: number;
  /**
   * The field (response path) asked on the most parent objects, and how many: an entity fetch for it
   * would carry that many representations. A list argument's own length counts too (`codes` of 1,001).
   */
  largest: { path: string; items: number };
}

/**
 * Prices an operation before it runs: a field's items are its own list size times its parent's, so three
 * nested connections of `first: 100` are priced as the 1,000,000 rows they would fetch. Fragments are
 * expanded where they are spread (so each spread counts), and variables are read for list lengths.
 */
export function operationCost(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
  registryCount: number,
): OperationCost {
  const result: OperationCost = { cost: 0, codes: 0, largest: { path: '', items: 0 } };
  const root = operation.operation === 'mutation' ? schema.getMutationType() : operation.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
  const argument = (field: FieldNode, name: string) => {
    const node = field.arguments?.find((a) => a.name.value === name);
    return node ? valueFromASTUntyped(node.value, variables) : undefined;
  };
  const sizeOf = (field: FieldNode, size: ListSize): { items: number; codes: number } => {
    switch (size.kind) {
      case 'page': {
        const first = argument(field, 'first');
        return { items: typeof first === 'number' && first >= 0 ? first : size.default, codes: 0 };
      }
      case 'list': {
        const list = argument(field, size.argument);
        const n = Array.isArray(list) ? list.length : list == null ? 0 : 1;
        return { items: n, codes: size.codes ? n : 0 };
      }
      case 'units-to-register': {
        const input = argument(field, 'input') as { count?: unknown; serials?: unknown } | undefined;
        const n = Array.isArray(input?.serials) ? input.serials.length : typeof input?.count === 'number' ? input.count : 1;
        return { items: n, codes: n };
      }
      case 'registries':
        return { items: registryCount, codes: 0 };
    }
  };
  const walk = (set: SelectionSetNode, parent: GraphQLNamedType | null | undefined, multiplier: number, path: string, seen: Set<string>) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        walk(selection.selectionSet, type, multiplier, path, seen);
        continue;
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments[selection.name.value];
        // A fragment spreading itself is refused by validation; guard anyway rather than recurse forever.
        if (!fragment || seen.has(fragment.name.value)) continue;
        walk(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value), multiplier, path, new Set([...seen, fragment.name.value]));
        continue;
      }
      const name = selection.name.value;
      if (name.startsWith('__')) continue;
      const fieldPath = `${path}${path ? '.' : ''}${selection.alias?.value ?? name}`;
      const coordinate = parent ? `${parent.name}.${name}` : name;
      const size = LIST_SIZES[coordinate];
      const own = size ? sizeOf(selection, size) : { items: 1, codes: 0 };
      const items = multiplier * own.items;
      if (selection.arguments?.some((a) => a.name.value === CODE_ARGUMENT)) result.codes += multiplier;
      result.codes += multiplier * own.codes;
      // Leaves come with their parent's row, and `edges`/`node` only wrap the rows their connection fetched.
      const wrapper = parent !== null && parent !== undefined && ((name === 'edges' && parent.name.endsWith('Connection')) || (name === 'node' && parent.name.endsWith('Edge')));
      if (selection.selectionSet && !wrapper) {
        result.cost += items;
        const reach = Math.max(multiplier, own.items);
        if (reach > result.largest.items) result.largest = { path: fieldPath, items: reach };
      }
      const definition = parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[name] : undefined;
      if (selection.selectionSet) walk(selection.selectionSet, definition ? getNamedType(definition.type) : null, items, fieldPath, seen);
    }
  };
  if (root) walk(operation.selectionSet, root, 1, '', new Set());
  return result;
}
