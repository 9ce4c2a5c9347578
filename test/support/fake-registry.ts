import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A misbehaving registry node: every subgraph URL answers as `behaviour` says. */
export type Behaviour = 'hang' | 'not-json' | 'wrong-entity-count' | 'http-500';

export async function startFakeRegistry(behaviour: Behaviour) {
  let requests = 0;
  const open = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests++;
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (behaviour === 'hang') return void open.add(res);
      if (behaviour === 'not-json') return void res.end('<html>proxy error at 10.0.0.7</html>');
      if (behaviour === 'http-500') {
        res.writeHead(500, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ errors: [{ message: 'db down at 10.0.0.7:5432', extensions: { stacktrace: ['at secret.js:1'] } }] }));
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: { _entities: [], units: [] } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  return {
    subgraphs: { enterprises: url, 'product-models': url, units: url, lifecycle: url },
    get requests() {
      return requests;
    },
    async stop() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
