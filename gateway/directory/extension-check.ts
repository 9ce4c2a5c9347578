import { Kind, parse, visit, type DocumentNode, type StringValueNode } from 'graphql';
import { contractSubgraphs } from '../../lib/schema/compose.js';

let contractFields: Map<string, { fields: Set<string>; keys: Set<string> }> | undefined;

/** Types and fields the registry's own subgraphs define, with each type's key fields. */
function contract() {
  if (contractFields) return contractFields;
  contractFields = new Map();
  for (const subgraph of contractSubgraphs()) {
    for (const definition of parse(subgraph.typeDefs).definitions) {
      if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
      const entry = contractFields.get(definition.name.value) ?? { fields: new Set<string>(), keys: new Set<string>() };
      for (const field of definition.fields ?? []) entry.fields.add(field.name.value);
      for (const directive of definition.directives ?? []) {
        if (directive.name.value !== 'key') continue;
        const fields = directive.arguments?.find((a) => a.name.value === 'fields')?.value as StringValueNode | undefined;
        for (const key of fields?.value.split(/[\s{}]+/).filter(Boolean) ?? []) entry.keys.add(key);
      }
      contractFields.set(definition.name.value, entry);
    }
  }
  return contractFields;
}

/**
 * An extension subgraph may add types and fields, and reference registry entities by key; it may not
 * take over anything the registry owns (a field the contract defines, or any @override), whether or
 * not composition would let it.
 */
export function extensionProblems(name: string, sdl: string): string[] {
  let document: DocumentNode;
  try {
    document = parse(sdl);
  } catch (error) {
    return [`${name}: SDL does not parse: ${(error as Error).message}`];
  }
  const problems: string[] = [];
  const owned = contract();
  visit(document, {
    Directive(node) {
      if (node.name.value === 'override') problems.push(`${name}: @override is not allowed in an extension subgraph (it would take over a registry field)`);
    },
  });
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const type = owned.get(definition.name.value);
    if (!type) continue;
    for (const field of definition.fields ?? []) {
      const fieldName = field.name.value;
      if (type.fields.has(fieldName) && !type.keys.has(fieldName)) {
        problems.push(`${name}: tries to take over ${definition.name.value}.${fieldName}, which the registry owns`);
      }
    }
  }
  return problems;
}
