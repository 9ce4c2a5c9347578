import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedAlert {
  body: string;
  json: Record<string, any>;
  headers: IncomingHttpHeaders;
}

/**
 * A partner's webhook receiver on 127.0.0.1: keeps what it got, deduplicates by alert id (as the docs tell
 * a receiver to), can answer 500 to the next n requests, and lets a test wait for a count without sleeping.
 */
export async function startAlertReceiver() {
  const received: ReceivedAlert[] = [];
  const byId = new Map<string, number>();
  let failNext = 0;
  let waiters: (() => void)[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (failNext > 0) {
        failNext -= 1;
        res.writeHead(500).end('try later');
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const json = JSON.parse(body);
      received.push({ body, json, headers: req.headers });
      byId.set(json.id, (byId.get(json.id) ?? 0) + 1);
      res.writeHead(204).end();
      for (const wake of waiters) wake();
      waiters = [];
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    /** Deliveries per alert id (a deduplicating receiver acts on each id once). */
    byId,
    failNext(n: number) {
      failNext = n;
    },
    async waitFor(count: number): Promise<ReceivedAlert[]> {
      while (received.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
      return received;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
