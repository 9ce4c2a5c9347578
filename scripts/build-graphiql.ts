import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { graphiqlBundleDir, readManifest, type GraphiqlManifest } from '../gateway/graphiql/graphiql-assets.js';

/**
 * `npm run build` (and `npm start`'s prestart) bundles GraphiQL for the gateway's page into dist/graphiql/
 * with esbuild: the app (gateway/graphiql/browser), its CSS (fonts inlined) and Monaco's three web workers,
 * each named by its content hash. Nothing generated is committed. When the inputs (the lockfile and the
 * browser sources) have not changed since the last build, it does nothing, so a second start stays fast.
 */
export async function buildGraphiql(options: { force?: boolean; log?: (line: string) => void } = {}): Promise<GraphiqlManifest> {
  const outdir = graphiqlBundleDir();
  const root = dirname(dirname(outdir));
  const source = join(root, 'gateway', 'graphiql', 'browser');
  const key = inputsKey(root, source);
  const current = readManifest(outdir);
  if (current?.key === key && !options.force) return current;

  // esbuild is a devDependency: imported only here, never by the running gateway.
  const { build } = await import('esbuild');
  const started = performance.now();
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const monaco = (path: string) => join(root, 'node_modules', path);
  const result = await build({
    absWorkingDir: root,
    entryPoints: {
      app: join(source, 'app.jsx'),
      'editor.worker': monaco('monaco-editor/esm/vs/editor/editor.worker.js'),
      'json.worker': monaco('monaco-editor/esm/vs/language/json/json.worker.js'),
      'graphql.worker': monaco('monaco-graphql/esm/graphql.worker.js'),
    },
    outdir,
    entryNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2022',
    platform: 'browser',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    // The CSS's only url()s are data: fonts; any other file would need a route, so none may appear.
    loader: { '.ttf': 'dataurl', '.woff': 'dataurl', '.woff2': 'dataurl' },
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  const byEntry = new Map<string, string>();
  let css = '';
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    if (output.entryPoint) byEntry.set(basename(output.entryPoint), basename(file));
    if (output.cssBundle) css = basename(output.cssBundle);
  }
  const pick = (entry: string) => {
    const name = byEntry.get(entry);
    if (!name) throw new Error(`GraphiQL bundle: esbuild produced no output for ${entry}`);
    return name;
  };
  const manifest: GraphiqlManifest = {
    key,
    app: pick('app.jsx'),
    css,
    workers: { editor: pick('editor.worker.js'), json: pick('json.worker.js'), graphql: pick('graphql.worker.js') },
  };
  if (!css) throw new Error('GraphiQL bundle: esbuild produced no CSS');
  writeFileSync(join(outdir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  const size = readdirSync(outdir).reduce((sum, name) => sum + readFileSync(join(outdir, name)).length, 0);
  options.log?.(`GraphiQL bundled into ${relative(root, outdir)}/ (${(size / 1e6).toFixed(1)} MB) in ${Math.round(performance.now() - started)} ms`);
  return manifest;
}

// Bump when the build options above change, so existing bundles are rebuilt.
const BUILD_RECIPE = 'graphiql-1';

/** The lockfile (every package version) and the browser sources decide the bundle. */
function inputsKey(root: string, source: string): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(join(root, 'package-lock.json')));
  hash.update(BUILD_RECIPE);
  for (const name of readdirSync(source).sort()) hash.update(name).update(readFileSync(join(source, name)));
  return hash.digest('hex').slice(0, 16);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildGraphiql({ force: process.argv.includes('--force'), log: (line) => console.log(line) });
}
