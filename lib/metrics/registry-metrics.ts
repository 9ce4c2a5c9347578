import { metricsEnabled, registryCircuit, registryFetchDuration, registryFetchErrors, registryUp, verdicts } from './registry.js';

/**
 * What the gateway sees of each registry. The label is the registry's directory name (or
 * "audit:<name>", "extension:<name>"): bounded by the directory, which the operator writes.
 */

/** Starts timing one fetch; call the result with no reason when it answered, with one when it did not. */
export function timeRegistryFetch(registry: string): (failure?: 'refused' | 'malformed' | 'failed') => void {
  if (!metricsEnabled) return () => undefined;
  const started = performance.now();
  return (failure) => {
    registryFetchDuration.observe({ registry, outcome: failure ? 'error' : 'ok' }, (performance.now() - started) / 1000);
    if (failure) registryFetchErrors.inc({ registry, reason: failure });
  };
}

export interface RegistryState {
  name: string;
  reachable: boolean;
  circuit: 'closed' | 'half-open' | 'open';
}

const CIRCUIT = { closed: 0, 'half-open': 1, open: 2 } as const;
const sources = new Set<() => RegistryState[]>();

/** Reports circuit state and reachability of `states()` at each scrape; returns the unregister. */
export function observeRegistries(states: () => RegistryState[]): () => void {
  sources.add(states);
  return () => void sources.delete(states);
}

/** Sets the gauges read from their sources; the endpoint calls it before each scrape is serialised. */
export function refreshRegistryGauges(): void {
  registryCircuit.reset();
  registryUp.reset();
  for (const states of sources) {
    for (const state of states()) {
      registryCircuit.set({ registry: state.name }, CIRCUIT[state.circuit]);
      registryUp.set({ registry: state.name }, state.reachable ? 1 : 0);
    }
  }
}

/** Counts one customs verdict by its first reason; returns the judgement unchanged. */
export function countVerdict<T extends { verdict: string; reasons: readonly { code: string }[] }>(judgement: T): T {
  if (!metricsEnabled) return judgement;
  verdicts.inc({ verdict: judgement.verdict, reason: judgement.reasons[0]?.code ?? 'NONE' });
  return judgement;
}
