import type { IncomingMessage } from 'node:http';

/**
 * A request's body, or null once it passes `limit` bytes: reading stops there, so a client streaming
 * gigabytes costs us no more than `limit` bytes. Shared by the GraphQL server and the gateway's other routes.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      req.pause();
      resolve(null);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
