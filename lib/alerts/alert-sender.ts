import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { resolvePublicAddress } from './alert-url-policy.js';

export interface SendResult {
  httpStatus: number | null;
  error: string | null;
}

/**
 * POSTs one alert. The address is resolved and checked here, and the connection goes to exactly that
 * address (a `lookup` that returns it), so a name that resolved to a public address when the
 * subscription was made and to 127.0.0.1 now is refused, not followed.
 */
export async function postAlert(url: URL, body: string, headers: Record<string, string>, allowPrivate: boolean, timeoutMs: number): Promise<SendResult> {
  let target: { address: string; family: number };
  try {
    target = await resolvePublicAddress(url.hostname, allowPrivate);
  } catch (error) {
    return { httpStatus: null, error: (error as Error).message };
  }
  const lookup: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [target]);
    else callback(null, target.address, target.family);
  };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<SendResult>((resolve) => {
    const req = send(
      url,
      { method: 'POST', lookup, timeout: timeoutMs, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } },
      (res) => {
        res.resume(); // the answer's body is not read: only the status counts
        res.on('end', () => resolve({ httpStatus: res.statusCode ?? null, error: ok(res.statusCode) ? null : `HTTP ${res.statusCode}` }));
        res.on('error', (error) => resolve({ httpStatus: res.statusCode ?? null, error: error.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => resolve({ httpStatus: null, error: error.message }));
    req.end(body);
  });
}

export const ok = (status: number | undefined): boolean => status !== undefined && status >= 200 && status < 300;
