import { writeFileSync } from 'node:fs';
import { generateResolverTypes, RESOLVER_TYPES_TARGETS, resolverTypesPath } from '../lib/schema/resolver-types.js';

/** Writes each subgraph's resolver types from its SDL in schema/ (`npm run codegen`). */
for (const target of RESOLVER_TYPES_TARGETS) {
  writeFileSync(resolverTypesPath(target), await generateResolverTypes(target));
  process.stdout.write(`wrote ${target.file}\n`);
}
