// The load generator of `npm run bench`: `connections` keep-alive connections (undici Pool), each sending
// the next request as soon as its answer is read, for `seconds`. A request counts as an error when the
// status is not 200 or the body carries GraphQL errors.
import { Pool } from 'undici';

/**
 * @param {{ url: string, connections: number, seconds: number, headers?: Record<string, string>, body: (i: number) => string }} options
 * @returns {Promise<{ requests: number, errors: number, seconds: number, latencies: Float64Array, firstError?: string }>}
 */
export async function runLoad({ url, connections, seconds, headers = {}, body }) {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections, pipelining: 1 });
  const latencies = [];
  let errors = 0;
  let firstError;
  let i = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < until) {
      const sent = performance.now();
      try {
        const response = await pool.request({ path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body(i++) });
        const text = await response.body.text();
        latencies.push(performance.now() - sent);
        if (response.statusCode !== 200 || text.includes('"errors"')) {
          errors++;
          firstError ??= `${response.statusCode} ${text.slice(0, 300)}`;
        }
      } catch (error) {
        latencies.push(performance.now() - sent);
        errors++;
        firstError ??= String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  return { requests: latencies.length, errors, seconds: elapsed, latencies: Float64Array.from(latencies).sort(), firstError };
}

/** One request, its parsed answer: for comparing what each gateway returns. */
export async function postOnce(url, body, headers = {}) {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: 1 });
  try {
    const response = await pool.request({ path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: response.statusCode, body: await response.body.json() };
  } finally {
    await pool.close();
  }
}
