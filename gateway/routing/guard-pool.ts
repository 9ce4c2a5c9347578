import { sameLimits, type RegistryLimits } from '../directory/registry-limits.js';
import { RegistryGuard, type CircuitStatus } from './registry-guard.js';

/** A unit of isolation: a registry (by name) or an extension subgraph (`extension:<name>`). */
export interface GuardTarget {
  key: string;
  limits: RegistryLimits;
}

/**
 * The live guards (circuit breaker, bulkhead, timeout), one per registry or extension subgraph. They are
 * built from the directory's plain data and outlive its reloads: a breaker that has opened stays open
 * while the entry's limits are unchanged.
 */
export class GuardPool {
  private readonly guards = new Map<string, RegistryGuard>();

  /** The guard for `key`, made on first use (a fetch may race the sync that follows a reload). */
  guard(target: GuardTarget): RegistryGuard {
    let guard = this.guards.get(target.key);
    if (!guard) this.guards.set(target.key, (guard = new RegistryGuard(target.limits)));
    return guard;
  }

  /** A key without a guard yet has not failed yet. */
  circuit(key: string): CircuitStatus {
    return this.guards.get(key)?.circuit ?? 'closed';
  }

  /** After a reload: keeps guards whose limits are unchanged, renews the others, drops those of removed keys (returned). */
  sync(targets: Iterable<GuardTarget>): string[] {
    const wanted = new Map([...targets].map((t) => [t.key, t]));
    const dropped: string[] = [];
    for (const key of this.guards.keys()) if (!wanted.has(key)) dropped.push(key);
    for (const key of dropped) this.guards.delete(key);
    for (const target of wanted.values()) {
      const current = this.guards.get(target.key);
      if (!current || !sameLimits(current.limits, target.limits)) this.guards.set(target.key, new RegistryGuard(target.limits));
    }
    return dropped;
  }
}

/** Every unit of isolation a directory names. */
export function guardTargets(directory: {
  registries: readonly { name: string; limits: RegistryLimits }[];
  extensions: readonly { name: string; limits: RegistryLimits }[];
}): GuardTarget[] {
  return [
    ...directory.registries.map((r) => ({ key: r.name, limits: r.limits })),
    ...directory.extensions.map((e) => ({ key: extensionKey(e.name), limits: e.limits })),
  ];
}

export function extensionKey(name: string): string {
  return `extension:${name}`;
}
