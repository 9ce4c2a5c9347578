import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * The benchmark's processes: each gateway and node is a child of its own, so that its CPU and memory
 * can be read from /proc without the load generator's mixed in. A child says `{ type: 'ready', ... }`
 * over IPC once it listens; the node child also answers calls (`{ id, call, args }` -> `{ id, result }`).
 */
export interface BenchChild<Ready = Record<string, unknown>> {
  pid: number;
  ready: Ready;
  call<T>(call: string, args?: unknown): Promise<T>;
  stop(): Promise<void>;
}

export async function startChild<Ready>(script: string, args: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<BenchChild<Ready>> {
  const child = fork(script, args, { env: { LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  const ready = await new Promise<Ready>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`${script} exited (${code}) before it was ready`));
    child.once('exit', onExit);
    child.on('message', (message: any) => {
      if (message?.type === 'ready') {
        child.off('exit', onExit);
        resolve(message as Ready);
      } else if (typeof message?.id === 'number') {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (message.error) waiter?.reject(new Error(message.error));
        else waiter?.resolve(message.result);
      }
    });
  });
  child.on('exit', () => pending.forEach((w) => w.reject(new Error(`${script} exited`))));
  return {
    pid: child.pid!,
    ready,
    call: <T>(call: string, callArgs?: unknown) =>
      new Promise<T>((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, call, args: callArgs });
      }),
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** In a child: answers the parent's calls with these handlers. */
export function serveCalls(handlers: Record<string, (args: any) => Promise<unknown> | unknown>): void {
  process.on('message', async (message: any) => {
    if (typeof message?.id !== 'number') return;
    try {
      const handler = handlers[message.call];
      if (!handler) throw new Error(`no call ${message.call}`);
      process.send!({ id: message.id, result: await handler(message.args) });
    } catch (error) {
      process.send!({ id: message.id, error: (error as Error).message });
    }
  });
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU time (user + system) of a process in ms, from /proc; 0 when it has gone. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Resident memory of a process in MB, from /proc; 0 when it has gone. */
export function rssMb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}
