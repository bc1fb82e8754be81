import { parseArgs } from 'node:util';
import { TesseraError } from '@tessera/core';
import { adminRequest, adminTarget, TARGET_OPTIONS, TARGET_USAGE } from './admin-request.js';

/** Usage of `tessera audit`. */
export const AUDIT_USAGE = `  audit              who did what to which identity, when, and how it ended (newest first)
      --identity <id>            only calls on this identity
      --since <when>             ISO-8601 date, or a duration back from now: 30s, 15m, 2h, 7d
      --limit <n>                at most n entries (default 100, max 1000)
${TARGET_USAGE}`;

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `15m` → now − 15 minutes; an ISO date as is. Unix milliseconds, or throws naming `--since`. */
export function parseSinceFlag(value: string, now: number): number {
  const duration = /^(\d{1,9})([smhd])$/.exec(value);
  if (duration !== null) return now - Number(duration[1]) * (UNITS[duration[2] ?? 's'] ?? 1000);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new TesseraError(
      'ERR_CONFIG_INVALID',
      'Invalid --since: give an ISO-8601 date or a duration like 15m, 2h, 7d.',
      {
        target: 'since',
      },
    );
  }
  return ms;
}

interface AuditRow {
  at: string;
  actor: string;
  operation: string;
  outcome: string;
  status: number;
  identityId?: string;
  code?: string;
  detail?: string;
}

/** `tessera audit [--identity <id>] [--since <when>] [--limit <n>] [--json]`. */
export async function auditCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  out: (text: string) => void = (text) => void process.stdout.write(text),
): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: { ...TARGET_OPTIONS, identity: { type: 'string' }, since: { type: 'string' }, limit: { type: 'string' } },
    strict: true,
  });
  if (values.limit !== undefined && !/^\d{1,4}$/.test(values.limit)) {
    throw new TesseraError('ERR_CONFIG_INVALID', 'Invalid --limit: must be a whole number in [1, 1000].', {
      target: 'limit',
    });
  }
  const query = new URLSearchParams();
  if (values.identity !== undefined) query.set('identity', values.identity);
  if (values.since !== undefined) query.set('since', String(parseSinceFlag(values.since, Date.now())));
  if (values.limit !== undefined) query.set('limit', values.limit);
  const target = adminTarget(values, env);
  const qs = query.toString();
  const body = await adminRequest(target, 'GET', `/admin/audit${qs === '' ? '' : `?${qs}`}`);
  if (values.json === true) {
    out(`${JSON.stringify(body, null, 2)}\n`);
    return;
  }
  const rows = (body.value ?? []) as AuditRow[];
  if (rows.length === 0) {
    out('No audit entries.\n');
    return;
  }
  const lines = rows.map((r) =>
    [
      r.at,
      r.actor,
      r.operation,
      `${r.status} ${r.outcome}${r.code === undefined ? '' : ` ${r.code}`}`,
      r.identityId ?? '-',
      r.detail ?? '',
    ]
      .join('  ')
      .trimEnd(),
  );
  out(`${lines.join('\n')}\n`);
}
