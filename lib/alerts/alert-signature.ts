import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** `x-registry-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (docs/alerts.md). */
export const SIGNATURE_HEADER = 'x-registry-signature';

export function newSubscriptionSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

export function signAlert(secret: string, body: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/** What a receiver does: recompute and compare in constant time (tests use it as a receiver would). */
export function verifyAlertSignature(secret: string, body: string, header: string | undefined): boolean {
  const parts = Object.fromEntries((header ?? '').split(',').map((p) => p.split('=', 2) as [string, string]));
  if (!parts.t || !parts.v1 || !/^[0-9a-f]{64}$/.test(parts.v1)) return false;
  const expected = createHmac('sha256', secret).update(`${parts.t}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(parts.v1, 'hex'));
}
