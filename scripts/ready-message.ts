import type { NodeSubgraphName } from '../lib/schema/contract.js';

/** What a process forked with an IPC channel (by the launcher, or by a test) is told once it serves. */
export type ReadyMessage =
  | { type: 'ready'; role: 'registry-node'; pid: number; country: string; name: string; urls: Partial<Record<NodeSubgraphName, string>> }
  | { type: 'ready'; role: 'gateway'; pid: number; url: string; identity: string }
  | { type: 'ready'; role: 'launcher'; pid: number; gateway: { pid: number; url: string }; node: { pid: number; urls: Partial<Record<NodeSubgraphName, string>> } };

/** Sends the message when there is a parent listening; a process started from a shell has none. */
export function reportReady(message: ReadyMessage): void {
  process.send?.(message);
}

export function isReadyMessage(value: unknown): value is ReadyMessage {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'ready';
}
