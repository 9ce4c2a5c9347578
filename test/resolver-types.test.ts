import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateResolverTypes, RESOLVER_TYPES_TARGETS, resolverTypesPath } from '../lib/schema/resolver-types.js';

describe('the checked-in resolver types', () => {
  for (const target of RESOLVER_TYPES_TARGETS) {
    it(`${target.file} is what schema/${target.subgraph}.graphql generates (run \`npm run codegen\` after editing schema/)`, async () => {
      expect(readFileSync(resolverTypesPath(target), 'utf8')).toBe(await generateResolverTypes(target));
    });
  }

  it('type entity references (federation) and parents as the repository rows', async () => {
    const units = RESOLVER_TYPES_TARGETS.find((t) => t.subgraph === 'units')!;
    const generated = await generateResolverTypes(units);
    expect(generated).toContain("import type { UnitRow } from './unit-table.js';");
    expect(generated).toContain('Unit: ResolverTypeWrapper<UnitRow>;');
    expect(generated).toMatch(/UnitResolvers<ContextType = SubgraphContext<Loaders>,[^\n]*\n  __resolveReference\?: ReferenceResolver</);
  });
});
