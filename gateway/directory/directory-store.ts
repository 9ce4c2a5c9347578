import { watchFile, unwatchFile } from 'node:fs';
import { rootLogger } from '../../lib/logging/logger.js';
import { composeSupergraph, contractSubgraphs, CompositionError, SUPERGRAPH_HEADER } from '../../lib/schema/compose.js';
import { loadSdl } from '../../lib/schema/contract.js';
import { checkRegistry, httpSender } from '../conformance/check-registry.js';
import { extensionProblems } from './extension-check.js';
import { buildDirectory, DirectoryError, readDirectoryFile, sameEndpoints, type RegistryDirectory } from './registry-directory.js';

export interface DirectoryState {
  readonly directory: RegistryDirectory;
  readonly supergraphSdl: string;
  /**
   * Registries this state admitted without a conformance check: new (or with new endpoints) and not
   * answering. The routing side refuses their fetches until they answer and pass.
   */
  readonly unverified: readonly string[];
}

export interface ApplyResult {
  applied: boolean;
  /** Why the new directory was refused (the last good one keeps serving). */
  problems: string[];
  /** Accepted, but worth knowing (a partner unreachable right now, say). */
  warnings: string[];
}

export interface StoreOptions {
  env?: NodeJS.ProcessEnv;
  /** Run the conformance check on registries that are new or whose endpoints changed (default true). */
  checkConformance?: boolean;
}

/**
 * The live registry directory and the supergraph composed for it. A new directory is validated,
 * its new partners checked for conformance, its extension subgraphs composed; only then does it
 * replace the current one, atomically. Anything that fails leaves the last good state serving.
 */
export class DirectoryStore {
  private state: DirectoryState;
  private readonly listeners = new Set<(next: DirectoryState, previous: DirectoryState) => void>();
  private readonly fileListeners = new Set<(result: ApplyResult) => void>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Without extensions the supergraph is the checked-in one (a test keeps it equal to a fresh composition). */
  private readonly contractSupergraph = loadSdl('supergraph');
  /** SDL of extension subgraphs by URL, so a briefly unreachable extension does not block reloads. */
  private readonly extensionSdl = new Map<string, string>();
  /** Whether a registry's items are being served now; the routing side, which knows, replaces this guess. */
  servesNow: (name: string) => boolean = (name) => !this.state.unverified.includes(name) && this.state.directory.registries.some((r) => r.name === name);

  private constructor(
    directory: RegistryDirectory,
    private readonly options: StoreOptions,
  ) {
    // Replaced by create() once the directory has been checked and composed.
    this.state = { directory, supergraphSdl: this.contractSupergraph, unverified: [] };
  }

  /** The first directory must be valid: a gateway does not start on a broken configuration. */
  static async create(input: unknown, options: StoreOptions = {}): Promise<DirectoryStore> {
    const store = new DirectoryStore(buildDirectory(input, { env: options.env }), options);
    const result = await store.prepare(input, true);
    if ('problems' in result) throw new DirectoryError(result.problems);
    store.state = result.state;
    for (const warning of result.warnings) rootLogger().warn(`directory: ${warning}`);
    return store;
  }

  /** The directory, its supergraph and its unchecked registries, as one consistent snapshot. */
  get current(): DirectoryState {
    return this.state;
  }

  get directory(): RegistryDirectory {
    return this.state.directory;
  }

  get supergraphSdl(): string {
    return this.state.supergraphSdl;
  }

  /** Told the outcome of every re-read of a watched file (applied or refused): what tests and tools wait on. */
  onFileRead(listener: (result: ApplyResult) => void): () => void {
    this.fileListeners.add(listener);
    return () => this.fileListeners.delete(listener);
  }

  private reported(result: ApplyResult): void {
    for (const listener of this.fileListeners) listener(result);
  }

  onChange(listener: (next: DirectoryState, previous: DirectoryState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Validates and, if everything holds, installs a new directory. Calls are applied one at a time. */
  apply(input: unknown): Promise<ApplyResult> {
    const run = this.queue.then(async (): Promise<ApplyResult> => {
      const result = await this.prepare(input, false);
      if ('problems' in result) {
        rootLogger().error({ problems: result.problems }, `directory refused, the last good one keeps serving:\n- ${result.problems.join('\n- ')}`);
        return { applied: false, problems: result.problems, warnings: [] };
      }
      const previous = this.state;
      this.state = result.state;
      // An edit that points at nothing is most likely a typo: an error, so that it is seen.
      for (const warning of result.warnings) rootLogger()[warning.includes('was edited') ? 'error' : 'warn'](`directory: ${warning}`);
      rootLogger().info(`directory applied: ${result.state.directory.registries.map((r) => `${r.name} (${r.countries.join(', ')})`).join('; ')}`);
      for (const listener of this.listeners) listener(result.state, previous);
      return { applied: true, problems: [], warnings: result.warnings };
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Re-reads the file when it changes (polling: robust to editors that replace files). */
  watchFile(path: string, intervalMs = 1_000): () => void {
    const listener = () => {
      let input: unknown;
      try {
        input = readDirectoryFile(path);
      } catch (error) {
        rootLogger().error(`directory refused, the last good one keeps serving: ${(error as Error).message}`);
        this.reported({ applied: false, problems: [(error as Error).message], warnings: [] });
        return;
      }
      void this.apply(input).then((result) => this.reported(result));
    };
    watchFile(path, { interval: intervalMs }, listener);
    return () => unwatchFile(path, listener);
  }

  private async prepare(input: unknown, initial: boolean): Promise<{ state: DirectoryState; warnings: string[] } | { problems: string[] }> {
    let directory: RegistryDirectory;
    try {
      directory = buildDirectory(input, { env: this.options.env });
    } catch (error) {
      return { problems: error instanceof DirectoryError ? error.problems : [(error as Error).message] };
    }
    const problems: string[] = [];
    const warnings: string[] = [...plainHttpCredentials(directory)];
    const unverified: string[] = [];
    if (this.options.checkConformance !== false) {
      const changed = directory.registries.filter((r) => !r.home && (initial || !sameEndpoints(r, this.state.directory.registries.find((p) => p.name === r.name))));
      for (const [registry, report] of await Promise.all(changed.map(async (r) => [r, await checkRegistry(r)] as const))) {
        if (report.conforming) continue;
        const failing = report.endpoints.filter((e) => e.problems.length);
        if (failing.every((e) => e.unreachable)) {
          // An edit of an entry that serves: the routing side keeps that one serving meanwhile.
          const edited = !initial && this.servesNow(registry.name);
          // Why, once: a refused credential (HTTP 401) is fixed differently from a node that is down.
          const why = [...new Set(failing.flatMap((e) => e.problems))].join('; ');
          warnings.push(
            edited
              ? `"${registry.name}" was edited but its new endpoints are unreachable (${failing.map((e) => e.subgraph).join(', ')}: ${why}); check them: the previous entry keeps serving until they answer and pass the conformance check`
              : `"${registry.name}" is unreachable now (${why}); accepted, and its items answer REGISTRY_UNAVAILABLE until it answers and passes the conformance check`,
          );
          unverified.push(registry.name);
          continue;
        }
        for (const endpoint of failing) {
          for (const problem of endpoint.problems) problems.push(`"${registry.name}" ${endpoint.subgraph} does not conform: ${problem}`);
        }
      }
    }
    const extensions = [];
    for (const extension of directory.extensions) {
      let sdl: string | undefined;
      try {
        const answer = await httpSender(extension.url, extension.headers)('query ExtensionSdl { _service { sdl } }');
        sdl = answer.data?._service?.sdl;
      } catch {
        sdl = undefined;
      }
      sdl ??= this.extensionSdl.get(extension.url);
      if (typeof sdl !== 'string') {
        problems.push(`extension "${extension.name}" of "${extension.registry}" does not answer { _service { sdl } }`);
        continue;
      }
      problems.push(...extensionProblems(extension.name, sdl));
      extensions.push({ name: extension.name, url: extension.url, typeDefs: sdl });
    }
    if (problems.length) return { problems };
    let supergraphSdl: string;
    try {
      supergraphSdl = extensions.length ? SUPERGRAPH_HEADER + composeSupergraph([...contractSubgraphs(), ...extensions]) : this.contractSupergraph;
    } catch (error) {
      return { problems: error instanceof CompositionError ? error.errors.map((e) => `composition: ${e}`) : [(error as Error).message] };
    }
    for (const e of extensions) this.extensionSdl.set(e.url, e.typeDefs);
    return { state: { directory, supergraphSdl, unverified }, warnings };
  }
}

/** A credential sent over plain http to another host can be read on the way: worth a warning, not a refusal (a private network may be trusted). */
function plainHttpCredentials(directory: RegistryDirectory): string[] {
  return directory.registries
    .filter((r) => !r.home && Object.keys(r.headers).length)
    .flatMap((r) =>
      Object.entries(r.subgraphs)
        .filter(([, url]) => {
          const { protocol, hostname } = new URL(url);
          return protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]', '::1'].includes(hostname);
        })
        .map(([subgraph, url]) => `"${r.name}" ${subgraph}: its credential is sent over plain http to ${new URL(url).host}; use an https:// URL`),
    );
}
