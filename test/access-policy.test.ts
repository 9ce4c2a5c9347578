import { readFileSync } from 'node:fs';
import { Kind, parse, type ObjectTypeDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ACCESS_POLICY, refusalOf, rightOf } from '../lib/access/access-policy.js';
import type { Caller, Role } from '../lib/server/request-context.js';

const supergraph = parse(readFileSync(new URL('../schema/supergraph.graphql', import.meta.url), 'utf8'));
const contractFields = supergraph.definitions
  .filter((d): d is ObjectTypeDefinitionNode => d.kind === Kind.OBJECT_TYPE_DEFINITION && !d.name.value.startsWith('join__') && !d.name.value.startsWith('link__'))
  .flatMap((type) => (type.fields ?? []).map((field) => [type.name.value, field.name.value] as const));

const caller = (role: Role, extra: Partial<Caller> = {}): Caller => ({ subject: `test-${role}`, role, ...extra });
const maker = caller('manufacturer', { enterprise: 'CNA1B2' });

describe('access policy', () => {
  it('decides every field of the contract explicitly', () => {
    expect(contractFields.length).toBeGreaterThan(100);
    const undecided = contractFields.filter(([type, field]) => !rightOf(type, field)).map(([t, f]) => `${t}.${f}`);
    expect(undecided).toEqual([]);
  });

  it('names no field that the contract does not have (a typo would leave the real field to the default)', () => {
    const known = new Set(contractFields.map(([t, f]) => `${t}.${f}`));
    const internal = new Set(['Query._entities', 'Query._service', 'Query.auditLog', 'LifecycleEvent.recordedBy']);
    const stray = Object.entries(ACCESS_POLICY).flatMap(([type, fields]) =>
      Object.keys(fields).filter((f) => f !== '*').map((f) => `${type}.${f}`).filter((name) => !known.has(name) && !internal.has(name)),
    );
    expect(stray).toEqual([]);
  });

  it('lets anonymous callers verify and read public fields, and nothing else', () => {
    for (const name of ['Query.verify', 'Query.verifyMany', 'Query.unit', 'Query.parseCode', 'Unit.state', 'Enterprise.status', 'ProductModel.name']) {
      const [type, field] = name.split('.') as [string, string];
      expect(refusalOf(name, rightOf(type, field)!, null), name).toBeNull();
    }
    for (const name of ['Registry.units', 'Registry.unitsByState', 'Unit.events', 'Unit.provenance', 'Mutation.registerUnits', 'Query.auditLog']) {
      const [type, field] = name.split('.') as [string, string];
      expect(refusalOf(name, rightOf(type, field)!, null)?.extensions.code, name).toBe('UNAUTHENTICATED');
    }
  });

  it('refuses writes to readers and to manufacturers outside their own enterprise', () => {
    const register = rightOf('Mutation', 'registerUnits')!;
    for (const role of ['customs', 'partner', 'analyst'] as const) {
      expect(refusalOf('Mutation.registerUnits', register, caller(role, { country: 'DE' }), { input: { model: 'CNA1B2HX0001' } })?.extensions.code).toBe('FORBIDDEN');
    }
    expect(refusalOf('Mutation.registerUnits', register, maker, { input: { model: 'cn-a1b2-hx0001' } })).toBeNull();
    const foreign = refusalOf('Mutation.registerUnits', register, maker, { input: { model: 'CNZZZZHX0001' } });
    expect(foreign?.extensions.code).toBe('FORBIDDEN');
    expect(foreign?.message).toContain('CNZZZZHX0001');
    const events = rightOf('Mutation', 'recordEvents')!;
    const unit = (code: string) => ({ unit: code });
    expect(refusalOf('Mutation.recordEvents', events, maker, { events: [unit('CNA1B2HX0001' + '1'.repeat(17))] })).toBeNull();
    expect(refusalOf('Mutation.recordEvents', events, maker, { events: [unit('CNA1B2HX0001' + '1'.repeat(17)), unit('CNZZZZHX0001' + '1'.repeat(17))] })?.extensions.code).toBe('FORBIDDEN');
    expect(refusalOf('Mutation.setEnterpriseStatus', rightOf('Mutation', 'setEnterpriseStatus')!, maker)?.extensions.code).toBe('FORBIDDEN');
    expect(refusalOf('Mutation.closeRecall', rightOf('Mutation', 'closeRecall')!, maker)?.extensions.code).toBe('FORBIDDEN');
    expect(refusalOf('Mutation.closeRecall', rightOf('Mutation', 'closeRecall')!, caller('authority'))).toBeNull();
  });

  it('refuses a manufacturer token without an enterprise claim for every write', () => {
    const right = rightOf('Mutation', 'registerProductModel')!;
    expect(refusalOf('Mutation.registerProductModel', right, caller('manufacturer'), { input: { code: 'CNA1B2HX0001' } })?.extensions.code).toBe('FORBIDDEN');
  });
});
