import { createHash } from 'node:crypto';

/**
 * Headers for an HTML page of ours: nothing loads from elsewhere, the page's own inline <script> and
 * <style> run only by their hashes (no 'unsafe-inline'), it may call only its own origin, and no other
 * site may frame it.
 */
export function pageSecurityHeaders(html: string): Record<string, string> {
  const hashes = (tag: string) =>
    [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))]
      .map((m) => `'sha256-${createHash('sha256').update(m[1]!, 'utf8').digest('base64')}'`)
      .join(' ');
  const policy = [
    "default-src 'none'",
    `script-src ${hashes('script') || "'none'"}`,
    `style-src ${hashes('style') || "'none'"}`,
    "connect-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { 'content-security-policy': policy, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };
}
