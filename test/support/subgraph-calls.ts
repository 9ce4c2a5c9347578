import { channel } from 'node:diagnostics_channel';

export interface SubgraphCall {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Records the HTTP requests this process makes through undici (the gateway's calls to subgraphs, and
 * `fetch`), from undici's own diagnostics channel: nothing is patched. Call `stop()` when done.
 */
export function recordHttpCalls(): { calls: SubgraphCall[]; stop(): void } {
  const calls: SubgraphCall[] = [];
  const requests = channel('undici:request:create');
  const onRequest = (message: unknown) => {
    const { request } = message as { request: { origin: string; path: string; headers: string[] | string; body: unknown } };
    calls.push({ url: new URL(request.path, request.origin).href, headers: headersOf(request.headers), body: bodyText(request.body) });
  };
  requests.subscribe(onRequest);
  return { calls, stop: () => requests.unsubscribe(onRequest) };
}

/** undici keeps headers as a flat [name, value, ...] list (or, in older versions, one raw string). */
function headersOf(raw: string[] | string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (Array.isArray(raw)) for (let i = 0; i + 1 < raw.length; i += 2) headers[raw[i]!.toLowerCase()] = raw[i + 1]!;
  else for (const line of raw.split('\r\n')) if (line.includes(':')) headers[line.slice(0, line.indexOf(':')).trim().toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
  return headers;
}

function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf8');
  return '';
}
