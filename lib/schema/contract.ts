import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The SDL files in schema/ are the contract: one per subgraph, loaded at run time, so that what a
 * partner implements and what we serve can never drift apart.
 */
export const DATA_SUBGRAPHS = ['enterprises', 'product-models', 'units', 'lifecycle'] as const;
export type DataSubgraphName = (typeof DATA_SUBGRAPHS)[number];

/** Served inside the gateway: the registry directory and the code parser. */
export const DIRECTORY_SUBGRAPH = 'directory';
export type SubgraphName = DataSubgraphName | typeof DIRECTORY_SUBGRAPH;
export const ALL_SUBGRAPHS: readonly SubgraphName[] = [DIRECTORY_SUBGRAPH, ...DATA_SUBGRAPHS];

let root: string | undefined;

/** The repository root, found from this file whether it runs from sources or from dist/. */
export function repoRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'schema', 'units.graphql'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the schema/ folder above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return (root = dir);
}

export function sdlPath(name: SubgraphName | 'supergraph'): string {
  return join(repoRoot(), 'schema', `${name}.graphql`);
}

export function loadSdl(name: SubgraphName | 'supergraph'): string {
  return readFileSync(sdlPath(name), 'utf8');
}
