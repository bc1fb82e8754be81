// `tessera doctor`: the troubleshooting guide's fixes as checks against a running server. Each failed check says
// what to do. No secret is printed: the key and bearer token are only used to sign.
import { parseArgs } from 'node:util';
import { isTesseraError, TesseraError } from '@tessera/core';
import {
  type AdminTarget,
  optionalTarget,
  type SentResponse,
  sendRequest,
  TARGET_OPTIONS,
  wireError,
} from './admin-request.js';

/** Usage of `tessera doctor`. */
export const DOCTOR_USAGE = `  doctor             check a server and a credential: reachable, TLS trusted, clock skew, the key authenticates,
                     data actions held, rate-limit headroom, api-versions; each failed check prints its fix
      --max-clock-skew <s>       the server's replay window in seconds (default 900, as serve's --max-clock-skew)`;

/** One line of the doctor's report. `ok` undefined: informational or could not be decided. */
export interface DoctorCheck {
  readonly check: 'reachable' | 'tls' | 'clock' | 'api-versions' | 'authentication' | 'data-actions' | 'rate-limits';
  readonly ok: boolean | undefined;
  readonly detail: string;
  /** What to do, on failure. */
  readonly fix?: string;
  readonly data?: unknown;
}

/** Every data action and a request that reveals it without changing anything (refused after authorization). */
const PROBES: ReadonlyArray<{
  action: string;
  method: 'GET' | 'POST' | 'DELETE';
  path: (fakeId: string) => string;
  body?: unknown;
}> = [
  { action: 'identities/read', method: 'GET', path: (id) => `/identities/${id}?api-version=2025-03-02-preview` },
  // Bodies and ids below are invalid on purpose: an authorized caller gets 400/404, an unauthorized one 403.
  {
    action: 'identities/create',
    method: 'POST',
    path: () => '/identities?api-version=2025-06-30',
    body: { createTokenWithScopes: 'not-a-list' },
  },
  { action: 'identities/delete', method: 'DELETE', path: () => '/identities/not-an-id?api-version=2025-06-30' },
  {
    action: 'tokens/issue',
    method: 'POST',
    path: (id) => `/identities/${id}/:issueAccessToken?api-version=2025-06-30`,
    body: { scopes: 'not-a-list' },
  },
  {
    action: 'tokens/revoke',
    method: 'POST',
    path: () => '/identities/not-an-id/:revokeAccessTokens?api-version=2025-06-30',
  },
  { action: 'tokens/introspect', method: 'POST', path: () => '/tokens/:introspect', body: {} },
  { action: 'revocations/read', method: 'GET', path: () => '/revocations/snapshot' },
  { action: 'keys/read', method: 'GET', path: () => '/admin/signing-keys' },
  { action: 'keys/write', method: 'POST', path: () => '/admin/keys/:regenerate', body: { key: 'none' } },
  { action: 'roles/read', method: 'GET', path: () => '/admin/roles' },
  { action: 'audit/read', method: 'GET', path: () => '/admin/audit?limit=1' },
];

/** The fix for each 401 reason, as the troubleshooting guide gives it. */
const AUTH_FIXES: Readonly<Record<string, string>> = {
  ERR_AUTH_SIGNATURE_MISMATCH:
    "the access key matches none of the server's: it was regenerated or mistyped — get the current one with tessera keys list (with a working key), or use the key printed at first start",
  ERR_AUTH_DATE_OUT_OF_RANGE:
    "this machine's clock is outside the server's replay window: synchronise it (timedatectl set-ntp true / chronyc makestep)",
  ERR_AUTH_HOST_MISMATCH:
    "the signed host is not the server's: behind a proxy, start the server with --public-url https://<the host clients use>/",
  ERR_AUTH_UNSUPPORTED_SCHEME:
    'the server has no trusted issuers for bearer tokens: start it with --trusted-issuers / --trusted-issuer, or use an access key',
  ERR_AUTH_MISSING: 'no credentials were sent: give --connection-string or --endpoint with --bearer-token',
};

function headerText(res: SentResponse, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A well-formed identity id of the server's resource that exists nowhere (probe target). */
function fakeIdentity(resourceId: string | undefined): string {
  const rid = resourceId ?? '00000000-0000-0000-0000-000000000000';
  return encodeURIComponent(`8:acs:${rid}_00000000-0000-0000-0000-000000000000`);
}

function tlsFix(endpoint: string): string {
  return (
    `trust the server's CA: --ca <ca.pem> or NODE_EXTRA_CA_CERTS=<ca.pem> (a 'tessera serve --tls-dev' server prints ` +
    `its CA, <data-dir>/tls/dev-ca.pem; never trust it beyond development). Checking ${endpoint} certificate: openssl s_client -connect <host:port> -showcerts`
  );
}

/** Runs every check; never throws for an unhealthy server (only for bad flags). */
export async function runDoctor(
  target: AdminTarget,
  options: { readonly maxClockSkewSeconds: number },
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const https = target.endpoint.startsWith('https:');
  let health: SentResponse;
  const before = Date.now();
  try {
    health = await sendRequest(target, 'GET', '/healthz', { anonymous: true });
  } catch (error) {
    const cause = isTesseraError(error) && error.cause instanceof Error ? error.cause.message : String(error);
    if (https && /certificate|self.signed|CERT|unable to verify/i.test(cause)) {
      checks.push({ check: 'reachable', ok: true, detail: `${target.endpoint} answers TLS handshakes.` });
      checks.push({
        check: 'tls',
        ok: false,
        detail: `The certificate is not trusted (${cause}).`,
        fix: tlsFix(target.endpoint),
      });
    } else {
      checks.push({
        check: 'reachable',
        ok: false,
        detail: `${target.endpoint} cannot be reached (${cause}).`,
        fix: 'start the server (npm start, or tessera serve --host … --port …), check the endpoint, the port and any firewall or proxy in between',
      });
    }
    return checks;
  }
  const after = Date.now();
  checks.push({
    check: 'reachable',
    ok: health.status === 200,
    detail: `${target.endpoint} answered GET /healthz with ${health.status}.`,
    ...(health.status === 200 ? {} : { fix: 'this is not a Tessera server, or it is unhealthy: see its log' }),
  });
  if (https) checks.push({ check: 'tls', ok: true, detail: 'The certificate is trusted by this machine.' });

  const date = headerText(health, 'date');
  if (date !== undefined && !Number.isNaN(Date.parse(date))) {
    // Date has whole seconds: compare with the middle of the round trip and allow the second's rounding.
    const skewMs = Date.parse(date) + 500 - (before + after) / 2;
    const skew = Math.round(skewMs / 1000);
    const window = options.maxClockSkewSeconds;
    const ok = Math.abs(skewMs) <= window * 1000;
    checks.push({
      check: 'clock',
      ok,
      detail: `The server's clock is ${Math.abs(skew)} s ${skew >= 0 ? 'ahead of' : 'behind'} this machine's (HMAC replay window ±${window} s).`,
      data: { skewSeconds: skew, windowSeconds: window },
      ...(ok
        ? {}
        : {
            fix: 'signed requests from here will be refused with 401 ERR_AUTH_DATE_OUT_OF_RANGE: synchronise both clocks with NTP (timedatectl set-ntp true)',
          }),
    });
  }

  const versions = headerText(health, 'api-supported-versions');
  checks.push(
    versions === undefined
      ? {
          check: 'api-versions',
          ok: false,
          detail: 'No api-supported-versions header: this is not an ACS-compatible endpoint.',
          fix: 'check --endpoint: it must be the server root, e.g. http://127.0.0.1:8080/',
        }
      : {
          check: 'api-versions',
          ok: true,
          detail: `api-versions supported: ${versions}.`,
          data: versions.split(',').map((v) => v.trim()),
        },
  );

  if (target.kind === 'anonymous') {
    checks.push({
      check: 'authentication',
      ok: undefined,
      detail: 'No credentials given: authentication, data actions and rate limits not checked.',
      fix: 'give --connection-string (or TESSERA_CONNECTION_STRING, --connection-string-file), or --bearer-token',
    });
    return checks;
  }

  const discovery = (await sendRequest(target, 'GET', '/.well-known/openid-configuration', { anonymous: true })).json;
  const fakeId = fakeIdentity(
    typeof discovery.tessera_resource_id === 'string' ? discovery.tessera_resource_id : undefined,
  );
  const first = PROBES[0];
  const signed = first === undefined ? undefined : await sendRequest(target, first.method, first.path(fakeId));
  const who = target.kind === 'hmac' ? 'The access key' : 'The bearer token';
  if (signed === undefined || signed.status === 401) {
    const error = wireError(signed?.json ?? {});
    const code = error.inner ?? error.code;
    checks.push({
      check: 'authentication',
      ok: false,
      detail: `${who} does not authenticate: 401 ${code} (${error.message})`,
      fix: AUTH_FIXES[code] ?? 'see docs/troubleshooting.md for this code',
    });
    return checks;
  }
  checks.push({
    check: 'authentication',
    ok: true,
    detail: `${who} authenticates (a signed read answered ${signed.status}).`,
  });

  const held: string[] = [];
  const missing: string[] = [];
  for (const probe of PROBES) {
    const res =
      probe === first
        ? signed
        : await sendRequest(
            target,
            probe.method,
            probe.path(fakeId),
            probe.body === undefined ? {} : { body: probe.body },
          );
    (res.status === 403 ? missing : held).push(probe.action);
  }
  checks.push({
    check: 'data-actions',
    ok: undefined,
    detail:
      `Holds ${held.length === 0 ? 'no data actions' : held.join(', ')}` +
      (missing.length === 0 ? '.' : `; lacks ${missing.join(', ')}.`),
    data: { held, missing },
    ...(missing.length === 0
      ? {}
      : {
          fix:
            target.kind === 'bearer'
              ? 'a request needing a missing action answers 403 ERR_FORBIDDEN: assign a role that has it (tessera roles assign --role … --issuer … --subject …)'
              : 'a request needing a missing action answers 403 ERR_FORBIDDEN: the verifier key is read-only; use the primary or secondary key',
        }),
  });

  checks.push(await rateLimitCheck(target));
  return checks;
}

/** Rate-limit headroom per operation from the server's own gauges (`GET /metrics`, served with --metrics-api). */
async function rateLimitCheck(target: AdminTarget): Promise<DoctorCheck> {
  const res = await sendRequest(target, 'GET', '/metrics');
  if (res.status !== 200) {
    return {
      check: 'rate-limits',
      ok: undefined,
      detail: `Rate-limit headroom not visible here (GET /metrics answered ${res.status}).`,
      fix: 'start the server with --metrics-api (or read tessera_rate_limit_utilisation_ratio from --metrics-port); over a limit a request answers 429 with Retry-After',
    };
  }
  const limits = new Map<string, { limit: number; window: number }>();
  const rows: Array<{ credential: string; operation: string; utilisation: number }> = [];
  for (const line of res.text.split('\n')) {
    const limit = /^tessera_rate_limit_limit\{([^}]*)\} (\S+)$/.exec(line);
    const used = /^tessera_rate_limit_utilisation_ratio\{([^}]*)\} (\S+)$/.exec(line);
    const labels = (text: string) =>
      Object.fromEntries([...text.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
    if (limit !== null) {
      const l = labels(limit[1] ?? '');
      limits.set(l.operation ?? '', { limit: Number(limit[2]), window: Number(l.window_seconds) });
    } else if (used !== null) {
      const l = labels(used[1] ?? '');
      rows.push({ credential: l.credential ?? '', operation: l.operation ?? '', utilisation: Number(used[2]) });
    }
  }
  if (limits.size === 0) {
    return { check: 'rate-limits', ok: true, detail: 'No rate limits are configured (--rate-limit off).' };
  }
  const parts = [...limits].map(([operation, { limit, window }]) => {
    const busiest = rows.filter((r) => r.operation === operation).sort((a, b) => b.utilisation - a.utilisation)[0];
    const used = busiest === undefined ? 0 : busiest.utilisation;
    const who = busiest === undefined ? '' : ` (busiest: ${busiest.credential})`;
    return `${operation} ${limit}/${window}s at ${Math.round(used * 100)} %${who}`;
  });
  const hot = rows.filter((r) => r.utilisation >= 0.7);
  return {
    check: 'rate-limits',
    ok: hot.length === 0,
    detail: `Rate limits per credential: ${parts.join('; ')}.`,
    data: { limits: Object.fromEntries(limits), utilisation: rows },
    ...(hot.length === 0
      ? {}
      : {
          fix: `${hot.map((r) => `${r.credential} ${r.operation}`).join(', ')} at 70 % or more of the limit: spread the load over the two keys, back off on 429 (Retry-After), or raise the limit (--rate-limit issue=5000/30)`,
        }),
  };
}

/** `tessera doctor`; resolves to 0 when every check passed, 1 otherwise. */
export async function doctorCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  out: (text: string) => void = (text) => void process.stdout.write(text),
): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: { ...TARGET_OPTIONS, 'max-clock-skew': { type: 'string' } },
    strict: true,
  });
  const skew = values['max-clock-skew'];
  if (skew !== undefined && !/^\d{1,6}$/.test(skew)) {
    throw new TesseraError('ERR_CONFIG_INVALID', 'Invalid --max-clock-skew: a whole number of seconds.', {
      target: 'max-clock-skew',
    });
  }
  const target = optionalTarget(values, env);
  if (target === undefined) {
    throw new TesseraError(
      'ERR_CONFIG_INVALID',
      'Give --connection-string (or TESSERA_CONNECTION_STRING, --connection-string-file), or --endpoint [--bearer-token].',
      { target: 'connection-string' },
    );
  }
  const checks = await runDoctor(target, { maxClockSkewSeconds: skew === undefined ? 900 : Number(skew) });
  const failed = checks.some((c) => c.ok === false);
  if (values.json === true) {
    out(`${JSON.stringify({ ok: !failed, endpoint: target.endpoint, checks }, null, 2)}\n`);
  } else {
    const lines = checks.map((c) => {
      const mark = c.ok === true ? '✓' : c.ok === false ? '✗' : '·';
      return `${mark} ${c.check.padEnd(14)} ${c.detail}${c.fix === undefined ? '' : `\n  ${' '.repeat(14)} fix: ${c.fix}`}`;
    });
    out(`${lines.join('\n')}\n`);
  }
  return failed ? 1 : 0;
}
