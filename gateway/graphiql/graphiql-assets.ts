import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** What scripts/build-graphiql.ts wrote: file names carry a content hash, so they can be cached for good. */
export interface GraphiqlManifest {
  /** Hash of the bundle's inputs; the build is skipped while it matches. */
  key: string;
  app: string;
  css: string;
  workers: { editor: string; json: string; graphql: string };
}

export const ASSET_PREFIX = '/graphiql/';
const MANIFEST = 'manifest.json';

/** dist/graphiql under the project root, found from this file whether it runs from source or from dist/. */
export function graphiqlBundleDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return join(dir, 'dist', 'graphiql');
}

export function readManifest(dir = graphiqlBundleDir()): GraphiqlManifest | null {
  try {
    return JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as GraphiqlManifest;
  } catch {
    return null;
  }
}

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/**
 * The built bundle answering GET /graphiql/<file>. Only the files the manifest names are served, so the
 * route can never read anything else from disk. Each file is read (and gzipped) on its first request and
 * kept: a gateway that nobody opens in a browser never loads the few MB.
 */
export class GraphiqlAssets {
  private readonly names: Set<string>;
  private readonly cache = new Map<string, { body: Buffer; gzip: Buffer; type: string }>();

  private constructor(readonly manifest: GraphiqlManifest, private readonly dir: string) {
    this.names = new Set([manifest.app, manifest.css, ...Object.values(manifest.workers)]);
  }

  /** The bundle in `dir`, or null when it was never built (`npm run build` builds it). */
  static load(dir = graphiqlBundleDir()): GraphiqlAssets | null {
    const manifest = readManifest(dir);
    return manifest ? new GraphiqlAssets(manifest, dir) : null;
  }

  url(name: string): string {
    return ASSET_PREFIX + name;
  }

  /** Answers GET/HEAD /graphiql/<file>; false for any other request. */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (!path.startsWith(ASSET_PREFIX) || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    const file = this.file(path.slice(ASSET_PREFIX.length));
    if (!file) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `no file ${path}; the page names the current ones` }));
      return true;
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? file.gzip : file.body;
    res.writeHead(200, {
      'content-type': file.type,
      'content-length': body.length,
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      vary: 'accept-encoding',
      // The name changes with the content: a browser may keep each file as long as it likes.
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
      'cross-origin-resource-policy': 'same-origin',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }

  private file(name: string) {
    if (!this.names.has(name)) return null;
    let file = this.cache.get(name);
    if (!file) {
      const type = TYPES[extname(name)];
      if (!type) return null;
      const body = readFileSync(join(this.dir, name));
      file = { body, gzip: gzipSync(body), type };
      this.cache.set(name, file);
    }
    return file;
  }
}
