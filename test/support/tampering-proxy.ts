import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningNode } from '../../subgraphs/registry-node.js';

type Subgraph = keyof RunningNode['urls'];
export interface ProxiedRequest {
  subgraph: Subgraph;
  body: { query: string; variables?: Record<string, any> };
}
/** Rewrites a real node's answer before the gateway sees it (returns the answer to send). */
export type Tamper = (answer: { data?: any; errors?: unknown[] }, request: ProxiedRequest) => { data?: any; errors?: unknown[] };

/**
 * A real registry node behind a proxy that may tamper with its answers, as a buggy or dishonest
 * partner would: the node computes honest answers, `tamper` changes them on the way back.
 */
export async function startTamperingProxy(node: RunningNode) {
  const requests: ProxiedRequest[] = [];
  let tamper: Tamper | null = null;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', async () => {
      const subgraph = req.url!.slice(1) as Subgraph;
      const request: ProxiedRequest = { subgraph, body: JSON.parse(text) };
      requests.push(request);
      const upstream = await fetch(node.urls[subgraph]!, { method: 'POST', headers: forwarded(req), body: text });
      let answer = (await upstream.json()) as { data?: any; errors?: unknown[] };
      if (tamper) answer = tamper(answer, request);
      res.writeHead(upstream.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    subgraphs: Object.fromEntries(Object.keys(node.urls).map((s) => [s, `${base}/${s}`])) as Record<Subgraph, string>,
    requests,
    /** Tampers with every answer from now on (null: answers pass untouched). */
    set tamper(next: Tamper | null) {
      tamper = next;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The gateway's headers (request id, credentials, signatures) go on to the node as they came. */
function forwarded(req: IncomingMessage): Record<string, string> {
  const skip = new Set(['host', 'content-length', 'connection', 'transfer-encoding']);
  return Object.fromEntries(Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === 'string' && !skip.has(e[0])));
}
