import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The SDL files in schema/ are the contract: one per subgraph, loaded at run time, so that what a
 * partner implements and what we serve can never drift apart.
 */
export const DATA_SUBGRAPHS = ['enterprises', 'product-models', 'units', 'lifecycle'] as const;
export type DataSubgraphName = (typeof DATA_SUBGRAPHS)[number];

/**
 * Served by a registry node for the gateway it is home to, and not part of the partner contract: the
 * audit log (written by the gateway through a signed internal call, read by the authority).
 */
export const AUDIT_SUBGRAPH = 'audit';
/** What a registry node serves: the four data subgraphs and its audit log. */
export const NODE_SUBGRAPHS = [...DATA_SUBGRAPHS, AUDIT_SUBGRAPH] as const;
export type NodeSubgraphName = (typeof NODE_SUBGRAPHS)[number];

/** Served inside the gateway: the registry directory and the code parser. */
export const DIRECTORY_SUBGRAPH = 'directory';
export type SubgraphName = NodeSubgraphName | typeof DIRECTORY_SUBGRAPH;
export const ALL_SUBGRAPHS: readonly SubgraphName[] = [DIRECTORY_SUBGRAPH, ...NODE_SUBGRAPHS];

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
