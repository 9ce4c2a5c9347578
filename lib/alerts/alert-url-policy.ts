import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Where a partner's alerts may go: URL prefixes from its directory entry (`alertUrls`), and whether
 * private addresses are allowed (the entry's `alertsAllowPrivate`, or ALERTS_ALLOW_PRIVATE=1 for all).
 * Without this, a subscription could make the registry call its own internal services.
 */
export interface AlertTargets {
  urlPrefixes: readonly string[];
  allowPrivate: boolean;
}

/** The partner's country -> its targets; undefined: the directory lists no alert URLs for it. */
export type AlertTargetsFor = (country: string) => AlertTargets | undefined;

export class AlertUrlRefused extends Error {}

/** Validates `alertUrls` of a directory entry (the gateway's and the node's reading of the same file). */
export function readAlertUrls(raw: unknown, where: string, problems: string[]): string[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw) || raw.length === 0) return void problems.push(`${where} must be a non-empty array of http(s) URL prefixes`);
  const out: string[] = [];
  raw.forEach((prefix, i) => {
    let url: URL | null = null;
    try {
      url = typeof prefix === 'string' ? new URL(prefix) : null;
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || url.search || url.hash) {
      problems.push(`${where}[${i}] must be an http(s) URL prefix without credentials, query or fragment (got ${JSON.stringify(prefix)})`);
    } else out.push(url.href);
  });
  return out;
}

/** The alert targets of every country in a directory file's JSON (entries without `alertUrls` get none). */
export function alertTargetsFromDirectory(input: unknown, allowPrivateEverywhere: boolean): Map<string, AlertTargets> {
  const targets = new Map<string, AlertTargets>();
  const problems: string[] = [];
  const list = (input as { registries?: unknown })?.registries;
  if (!Array.isArray(list)) throw new Error('the directory has no "registries" array');
  list.forEach((entry: Record<string, unknown>, i) => {
    const prefixes = readAlertUrls(entry?.alertUrls, `registries[${i}].alertUrls`, problems);
    if (!prefixes || !Array.isArray(entry.countries)) return;
    for (const country of entry.countries) {
      targets.set(String(country), { urlPrefixes: prefixes, allowPrivate: allowPrivateEverywhere || entry.alertsAllowPrivate === true });
    }
  });
  if (problems.length) throw new Error(`invalid alertUrls in the directory:\n- ${problems.join('\n- ')}`);
  return targets;
}

/** Checks a subscription's URL against the partner's prefixes (by parsed URL, so `https://a.example.evil` never matches `https://a.example`). */
export function checkAllowedUrl(url: string, targets: AlertTargets | undefined, country: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AlertUrlRefused(`url ${JSON.stringify(url.slice(0, 200))} is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new AlertUrlRefused(`url must be http or https, got ${parsed.protocol}`);
  if (parsed.username || parsed.password) throw new AlertUrlRefused('url must not carry credentials');
  if (!targets) throw new AlertUrlRefused(`the registry directory lists no alertUrls for country ${country}: ask the registry's operator to add your receiver`);
  const allowed = targets.urlPrefixes.some((prefix) => {
    const p = new URL(prefix);
    return parsed.origin === p.origin && parsed.pathname.startsWith(p.pathname);
  });
  if (!allowed) throw new AlertUrlRefused(`url ${parsed.href} is not under the alert URLs the directory allows for ${country}: ${targets.urlPrefixes.join(', ')}`);
  return parsed;
}

const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) PRIVATE.addSubnet(net, bits, 'ipv6');

/** Loopback, private, link-local, shared, multicast or unspecified (IPv4-mapped IPv6 counts as its IPv4). */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Resolves the host and refuses a private address unless allowed. Used when subscribing (a clear error
 * early) and by the sender for the address it actually connects to (so DNS rebinding gains nothing).
 */
export async function resolvePublicAddress(hostname: string, allowPrivate: boolean): Promise<{ address: string; family: number }> {
  const host = hostname.replace(/^\[|\]$/g, '');
  const found = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true });
  if (found.length === 0) throw new AlertUrlRefused(`${host} does not resolve`);
  if (!allowPrivate) {
    const bad = found.find((a) => isPrivateAddress(a.address));
    if (bad) throw new AlertUrlRefused(`${host} resolves to ${bad.address}, a loopback, private or link-local address: alerts are never sent there unless configured (ALERTS_ALLOW_PRIVATE=1 or alertsAllowPrivate in the directory)`);
  }
  return found[0]!;
}
