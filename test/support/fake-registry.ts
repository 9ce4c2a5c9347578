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

/**
 * A real registry node behind a switch: `down` drops every connection (as a node not yet running), `up`
 * passes requests through, and the non-conforming modes alter what the node answers in one way each.
 */
export type ProxyMode = 'down' | 'up' | 'entities-reversed' | 'without-serial';

export async function startSwitchableRegistry(targets: Partial<Record<string, string>>, mode: ProxyMode = 'down') {
  const state = { mode };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (state.mode === 'down') return void req.socket.destroy();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const target = targets[(req.url ?? '').slice(1)];
      if (!target) return void res.writeHead(404).end();
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && k !== 'host' && k !== 'content-length')) as Record<string, string>;
      const answer = await fetch(target, { method: 'POST', headers, body: Buffer.concat(chunks) });
      let text = await answer.text();
      if (state.mode !== 'up') text = JSON.stringify(alter(JSON.parse(text), state.mode));
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    subgraphs: Object.fromEntries(Object.keys(targets).map((name) => [name, `${base}/${name}`])),
    set mode(next: ProxyMode) {
      state.mode = next;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function alter(body: any, mode: ProxyMode) {
  if (mode === 'entities-reversed' && Array.isArray(body?.data?._entities)) body.data._entities.reverse();
  if (mode === 'without-serial' && typeof body?.data?._service?.sdl === 'string') body.data._service.sdl = body.data._service.sdl.replace(/\n\s*serial: String!/, '');
  return body;
}
