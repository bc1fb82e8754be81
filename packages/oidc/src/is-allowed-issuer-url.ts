const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * True when `value` is a URL keys may be fetched from: `https:` anywhere, plain `http:` only on a loopback host
 * (a provider on the developer's machine), so a token's keys cannot be served by a man in the middle.
 */
export function isAllowedIssuerUrl(value: unknown): value is string {
  if (typeof value !== 'string' || value === '') return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}
