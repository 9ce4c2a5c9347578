import { rootLogger } from '../../lib/logging/logger.js';
import { checkRegistry } from '../conformance/check-registry.js';
import { sameEndpoints, type RegistryDirectory, type RegistryEntry } from '../directory/registry-directory.js';

/** Where a registry stands with the conformance check (design: "Trust"). */
export type Conformance =
  /** `contractVersion`: the partner contract version it passed as (absent for an unchecked home node). */
  | { status: 'passed'; contractVersion?: string }
  /** Accepted while unreachable: checked when it first answers. */
  | { status: 'pending' }
  | { status: 'failed'; problems: string[] };

interface Hold {
  /** The endpoints the hold is about: a reload that changes them ends it (the store checked the new ones). */
  entry: RegistryEntry;
  conformance: Exclude<Conformance, { status: 'passed' }>;
  /** An edited entry: the one that served before the edit keeps serving until the new one passes. */
  previous?: RegistryEntry;
}

/**
 * Registries that serve nothing until they pass the conformance check: those the directory store could
 * not check because they did not answer when they were added (or their endpoints changed). Each probe
 * checks them again; the first pass lets them serve, a failure keeps them refused with the problems.
 */
export class ConformanceGate {
  private readonly holds = new Map<string, Hold>();
  /** One check at a time per hold (a reload that replaces the hold may start another). */
  private readonly running = new WeakMap<Hold, Promise<void>>();
  /** The entry each registry was served with after the last sync (none for a held one without a previous entry). */
  private serving = new Map<string, RegistryEntry>();

  /**
   * After a reload: holds the registries the store accepted unchecked, keeps holds on unchanged ones, drops
   * the rest. An unchecked entry that replaces one which was serving keeps that one serving meanwhile.
   */
  sync(directory: RegistryDirectory, unverified: readonly string[]): void {
    const names = new Set(directory.registries.map((r) => r.name));
    for (const name of this.holds.keys()) if (!names.has(name)) this.holds.delete(name);
    for (const entry of directory.registries) {
      const hold = this.holds.get(entry.name);
      if (hold && sameEndpoints(entry, hold.entry)) hold.entry = entry;
      else if (unverified.includes(entry.name)) {
        const previous = this.serving.get(entry.name);
        this.holds.set(entry.name, { entry, conformance: { status: 'pending' }, ...(previous ? { previous } : {}) });
      } else this.holds.delete(entry.name);
    }
    this.serving = new Map(directory.registries.flatMap((r) => {
      const entry = this.entryFor(r);
      return entry ? [[r.name, entry] as const] : [];
    }));
  }

  conformance(name: string): Conformance {
    return this.holds.get(name)?.conformance ?? { status: 'passed' };
  }

  /** The entry whose endpoints serve this registry's items now: the previous one while an edit is unchecked. */
  entryFor(registry: RegistryEntry): RegistryEntry | null {
    const hold = this.holds.get(registry.name);
    return hold ? (hold.previous ?? null) : registry;
  }

  /** Whether some entry of this registry serves its items now. */
  serves(name: string): boolean {
    return this.serving.has(name);
  }

  /** An edited entry not yet in service: the endpoints that do not answer (or conform) yet, for health reports. */
  pendingEdit(name: string): RegistryEntry | null {
    const hold = this.holds.get(name);
    return hold?.previous ? hold.entry : null;
  }

  /** Why fetches for this registry are refused, or null when it may serve. */
  refusal(name: string): string | null {
    const hold = this.holds.get(name);
    if (!hold || hold.previous) return null;
    const conformance = hold.conformance;
    return conformance.status === 'pending'
      ? 'it has not passed the conformance check yet: it did not answer when it was added'
      : 'it has not passed the conformance check: its answers do not conform to the partner contract';
  }

  /** Checks a held registry (once at a time); nothing to do for one that may serve. */
  recheck(name: string): Promise<void> {
    const hold = this.holds.get(name);
    if (!hold) return Promise.resolve();
    const running = this.running.get(hold);
    if (running) return running;
    const run = this.run(name, hold).finally(() => this.running.delete(hold));
    this.running.set(hold, run);
    return run;
  }

  private async run(name: string, hold: Hold): Promise<void> {
    const report = await checkRegistry(hold.entry);
    // A reload replaced or removed the hold meanwhile: this report is about endpoints no longer in use.
    if (this.holds.get(name) !== hold) return;
    const log = rootLogger().child({ registry: name });
    if (report.conforming) {
      this.holds.delete(name);
      this.serving.set(name, hold.entry);
      log.info(`registry "${name}" passed the conformance check and now serves its countries${hold.previous ? ' from its edited entry' : ''}`);
      return;
    }
    const failing = report.endpoints.filter((e) => e.problems.length);
    // Still not answering (wholly or in part): nothing to judge yet.
    if (failing.every((e) => e.unreachable)) return;
    const problems = failing.flatMap((e) => e.problems.map((p) => `${e.subgraph} does not conform: ${p}`));
    const before = hold.conformance;
    hold.conformance = { status: 'failed', problems };
    // Log when the verdict changes, not on every probe.
    if (before.status !== 'failed' || before.problems.join('\n') !== problems.join('\n')) {
      log.error(
        { problems },
        hold.previous
          ? `registry "${name}": its edited entry answers but fails the conformance check; the previous entry keeps serving`
          : `registry "${name}" answers but fails the conformance check; it stays refused`,
      );
    }
  }
}
