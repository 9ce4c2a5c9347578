import type { RunningNode } from '../../subgraphs/registry-node.js';

/**
 * Interim loader for the benchmark's data: writes through the node's own mutations, in-process as the
 * node itself (2-12k units/s and 3-5k events/s here). Used only while `npm run seed` (the bulk loader) is
 * not built: see `seedData` in scripts/bench/bench-database.ts.
 */
export interface SeedPlan {
  units: number;
  eventsPerUnit: number;
}

export const ENTERPRISES = 10;
export const MODELS_PER_ENTERPRISE = 2;
const enterpriseCode = (e: number) => `CNB${String(e).padStart(3, '0')}`;
export const modelCode = (e: number, m: number) => `${enterpriseCode(e)}M${String(m).padStart(5, '0')}`;

/** A valid history of n events; every 50th unit is stolen (when the history is long enough to allow it). */
function history(i: number, n: number): { type: string; owner?: string }[] {
  const story = [{ type: 'MANUFACTURED' }, { type: 'SOLD', owner: `owner-${i % 997}` }, { type: i % 50 === 0 ? 'REPORTED_STOLEN' : 'DEPLOYED' }];
  while (story.length < n) story.push({ type: story.length % 2 ? 'MAINTAINED' : 'REPAIRED' });
  if (i % 50 === 0 && n > 3) story[2] = { type: 'DEPLOYED' };
  return story.slice(0, n);
}

export async function seedThroughApi(node: RunningNode, plan: SeedPlan, progress: (line: string) => void): Promise<void> {
  const run = async (subgraph: Parameters<RunningNode['execute']>[0], query: string, variables: Record<string, unknown>) => {
    const body = await node.execute(subgraph, query, variables);
    const errors = body.errors?.filter((e) => e.extensions?.code !== 'ALREADY_REGISTERED') ?? [];
    if (errors.length) throw new Error(`seed: ${errors.map((e) => e.message).join('; ')}`);
    return body.data as any;
  };
  const models: string[] = [];
  for (let e = 0; e < ENTERPRISES; e++) {
    await run('enterprises', 'mutation($c: ID!, $n: String!) { registerEnterprise(input: { code: $c, name: $n }) { code } }', { c: enterpriseCode(e), n: `Bench Robotics ${e}` });
    for (let m = 0; m < MODELS_PER_ENTERPRISE; m++) {
      models.push(modelCode(e, m));
      await run('product-models', 'mutation($c: ID!, $n: String!) { registerProductModel(input: { code: $c, name: $n, category: "humanoid" }) { code } }', { c: modelCode(e, m), n: `Model ${e}-${m}` });
    }
  }
  // One recalled model, so that verdicts are not all ADMIT.
  await run('product-models', 'mutation($m: ID!) { openRecall(input: { model: $m, defect: "bench defect", remedy: "bench remedy" }) { code } }', { m: models[0] });
  const started = Date.now();
  const codes: string[] = [];
  const perModel = Math.ceil(plan.units / models.length);
  for (const [k, model] of models.entries()) {
    for (let left = Math.min(perModel, plan.units - k * perModel); left > 0; left -= 1000) {
      const data = await run('units', 'mutation($m: ID!, $n: Int) { registerUnits(input: { model: $m, count: $n }) { code } }', { m: model, n: Math.min(1000, left) });
      codes.push(...data.registerUnits.map((u: { code: string }) => u.code));
    }
    progress(`seed: ${codes.length} units (${Math.round(codes.length / ((Date.now() - started) / 1000 || 1))}/s)`);
  }
  const day = 86_400_000;
  const t0 = Date.now() - 400 * day;
  const batch: object[][] = [[]];
  codes.forEach((code, i) => {
    history(i, plan.eventsPerUnit).forEach((event, k) => {
      if (batch.at(-1)!.length >= 1000) batch.push([]);
      batch.at(-1)!.push({ eventId: `seed-${code}-${k}`, unit: code, occurredAt: new Date(t0 + (i % 300) * day + k * day).toISOString(), ...event });
    });
  });
  const eventsStarted = Date.now();
  let done = 0;
  // Two calls at a time: the node's CPU, not the round trip, is the limit.
  const next = async (): Promise<void> => {
    const events = batch.shift();
    if (!events?.length) return;
    await run('lifecycle', 'mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }', { e: events });
    done += events.length;
    if (done % 20_000 < 1000) progress(`seed: ${done} events (${Math.round(done / ((Date.now() - eventsStarted) / 1000 || 1))}/s)`);
    return next();
  };
  await Promise.all([next(), next()]);
  progress(`seed: ${codes.length} units and ${done} events in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
