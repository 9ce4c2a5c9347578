import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRASH_BEFORE_SEND_ENV } from '../lib/alerts/alert-dispatcher.js';
import { repoRoot } from '../lib/schema/contract.js';
import { isReadyMessage } from '../scripts/ready-message.js';
import type { RunningNode } from '../subgraphs/registry-node.js';
import { startAlertReceiver } from './support/alert-receiver.js';
import { nodeQuery, seedNode } from './support/seed-node.js';
import { signedPost, TEST_SIGNING } from './support/signing.js';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';

/**
 * The outbox across a crash: a real node process (dist/) records a theft, claims the alert and dies
 * before sending it (the test-only CRASH_BEFORE_SEND switch); a second process on the same database
 * delivers it. Delivery is at least once; the receiver deduplicating by id makes the effect exactly once,
 * and here it in fact receives the alert once.
 */
describe('alerts across a crash between commit and delivery', () => {
  let receiver: Awaited<ReturnType<typeof startAlertReceiver>>;
  let dir: string;
  let database: TestDatabase;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    receiver = await startAlertReceiver();
    dir = mkdtempSync(join(tmpdir(), 'alerts-crash-'));
    database = await createTestDatabase();
    writeFileSync(join(dir, 'registries.json'), JSON.stringify({ registries: [{ name: 'DE', countries: ['DE'], alertUrls: [`${receiver.url}/alerts/`], alertsAllowPrivate: true }] }));
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await receiver?.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  function startNode(crash: boolean): { ready: Promise<RunningNode>; exited: Promise<number | null> } {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_SIGNING_SECRET: TEST_SIGNING.secret.toString('hex'),
      DIRECTORY_FILE: join(dir, 'registries.json'),
      ALERTS_POLL_MS: '20',
      // After the crash the claim's lease must run out before the next process takes the alert over.
      ALERTS_LEASE_MS: '300',
      LOG_LEVEL: 'warn',
    };
    delete env.NODE_ENV;
    delete env.VITEST;
    if (crash) env[CRASH_BEFORE_SEND_ENV] = '1';
    const where = database.config.url ? ['--database-url', database.config.url] : ['--data-dir', join(dir, 'db')];
    const child = fork(join(repoRoot(), 'dist/scripts/registry-node.js'), ['--country', 'CN', '--port', '0', ...where], { env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    children.push(child);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const ready = new Promise<RunningNode>((resolve, reject) => {
      child.on('message', (m) => isReadyMessage(m) && resolve({ urls: (m as { urls: RunningNode['urls'] }).urls } as RunningNode));
      child.once('exit', (code) => reject(new Error(`registry node exited (${code}) before it was ready`)));
    });
    return { ready, exited };
  }

  it('delivers the alert once after the process died between the commit and the send', async () => {
    const first = startNode(true);
    const node = await first.ready;
    const [unit] = await seedNode(node, 'CNCRSH', 'CNCRSHM00001', 1);
    const created = await signedPost(node.urls.audit!, 'audit', {
      query: 'mutation($input: CreateAlertSubscriptionInput!) { createAlertSubscription(input: $input) { secret } }',
      variables: { input: { url: `${receiver.url}/alerts/de`, scope: { importsInto: 'DE' }, kinds: ['UNIT_STOLEN'] } },
    }, { caller: { subject: 'de-registry', role: 'partner', country: 'DE' } });
    expect(((await created.json()) as { errors?: unknown }).errors).toBeUndefined();
    const at = (s: number) => new Date(Date.parse('2026-11-01T00:00:00Z') + s * 1000).toISOString();
    await nodeQuery(node, 'lifecycle', 'mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }', {
      e: [
        { eventId: 'crash-1', unit, type: 'MANUFACTURED', occurredAt: at(1) },
        { eventId: 'crash-2', unit, type: 'EXPORTED', occurredAt: at(2), country: 'DE' },
        { eventId: 'crash-3', unit, type: 'IMPORTED', occurredAt: at(3), country: 'CN' },
        { eventId: 'crash-4', unit, type: 'REPORTED_STOLEN', occurredAt: at(4) },
      ],
    });
    // The theft committed; the dispatcher claimed its alert and the process died before sending.
    expect(await first.exited).toBe(86);
    expect(receiver.received).toHaveLength(0);

    const second = startNode(false);
    const again = await second.ready;
    const [alert] = await receiver.waitFor(1);
    expect(alert!.json).toMatchObject({ kind: 'UNIT_STOLEN', unit, sequence: 3 }) // after EXPORTED (1) and IMPORTED (2);
    // A later alert of the same unit is only sent once the first is settled: when it arrives, the first
    // has had every chance to be sent twice, and was not.
    await nodeQuery(again, 'lifecycle', 'mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }', {
      e: [{ eventId: 'crash-5', unit, type: 'RECOVERED', occurredAt: at(5) }, { eventId: 'crash-6', unit, type: 'REPORTED_STOLEN', occurredAt: at(6) }],
    });
    const all = await receiver.waitFor(2);
    expect(all.map((a) => a.json.sequence)).toEqual([3, 5]);
    expect(receiver.byId.get(alert!.json.id)).toBe(1);
    const child = children.at(-1)!;
    child.kill('SIGTERM');
    await second.exited;
  });
});
