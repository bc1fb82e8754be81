// End to end: a real Prometheus (Debian's binary, random port, temp config) scrapes a running identity server's
// metrics listener with the shipped alert rules, a credential is driven past 70 % of a small rate limit, and
// Prometheus's API shows the quota warning firing for that credential and operation — and not the critical one.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommunicationIdentityClient } from '@azure/communication-identity';
import { type RunningServer, startServer } from '@tessera/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.js';
import { requireBinary } from './promtool.js';

const rulesFile = new URL('../../ops/prometheus/tessera-alerts.yml', import.meta.url).pathname;

interface PromAlert {
  readonly labels: Record<string, string>;
  readonly state: 'pending' | 'firing';
  readonly value: string;
}

let dir: string;
let server: RunningServer | undefined;
let prometheus: ChildProcess | undefined;
let promUrl: string;
let promLog = '';

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; prometheus said:\n${promLog.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  const binary = requireBinary('prometheus');
  dir = mkdtempSync(join(tmpdir(), 'tessera-prom-'));
  // A small limit: 10 issues per hour for each credential (an hour, so the window cannot roll during the test).
  server = await startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir: join(dir, 'tessera'),
    logLevel: 'silent',
    rateLimit: 'issue=10/3600',
    metricsPort: 0,
  });
  const target = new URL(server.metricsUrl ?? '').host;
  // The shipped rules, with their `for:` durations set to 0s so the test need not wait minutes: the durations are
  // held by the promtool unit tests; this test is about the expressions against a live scrape.
  writeFileSync(join(dir, 'rules.yml'), readFileSync(rulesFile, 'utf8').replace(/for: \d+m/g, 'for: 0s'));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files:',
      '  - rules.yml',
      'scrape_configs:',
      '  - job_name: tessera',
      '    static_configs:',
      `      - targets: ['${target}']`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn(
    binary,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  prometheus.stdout?.on('data', (d: Buffer) => (promLog += d.toString()));
  prometheus.stderr?.on('data', (d: Buffer) => (promLog += d.toString()));
  await until('Prometheus to be ready', 30_000, async () =>
    (await fetch(`${promUrl}/-/ready`)).ok ? true : undefined,
  );
}, 60_000);

afterAll(async () => {
  if (prometheus?.pid !== undefined && prometheus.exitCode === null) {
    const exited = new Promise((r) => prometheus?.once('exit', r));
    prometheus.kill('SIGTERM');
    await exited;
  }
  await server?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

async function alerts(): Promise<PromAlert[]> {
  const res = await fetch(`${promUrl}/api/v1/alerts`);
  const body = (await res.json()) as { data: { alerts: PromAlert[] } };
  return body.data.alerts;
}

describe('a real Prometheus scraping Tessera', () => {
  it('scrapes the target and fires the quota warning once a credential passes 70 % of its limit', async () => {
    await until('the scrape target to be up', 20_000, async () => {
      const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent('up{job="tessera"}')}`);
      const body = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
      return body.data.result[0]?.value[1] === '1' ? true : undefined;
    });
    // The official SDK, signing with the primary key.
    const client = new CommunicationIdentityClient(server?.connectionString ?? '', { allowInsecureConnection: true });
    const user = await client.createUser();
    const issue = async () => (await client.getToken(user, ['chat'])).token;
    // 6 of 10: below the line; nothing fires.
    for (let i = 0; i < 6; i++) expect(await issue()).toMatch(/^ey/);
    await until('a scrape showing 0.6', 20_000, async () => {
      const q = encodeURIComponent('tessera_rate_limit_utilisation_ratio{credential="primary",operation="issue"}');
      const body = (await (await fetch(`${promUrl}/api/v1/query?query=${q}`)).json()) as {
        data: { result: Array<{ value: [number, string] }> };
      };
      return body.data.result[0]?.value[1] === '0.6' ? true : undefined;
    });
    await new Promise((r) => setTimeout(r, 2500)); // two more rule evaluations at 0.6
    expect((await alerts()).filter((a) => a.labels.alertname?.startsWith('TesseraQuota'))).toEqual([]);

    // 8 of 10: the warning (≥ 70 %) fires for this credential and operation; the critical one (≥ 90 %) does not.
    for (let i = 0; i < 2; i++) expect(await issue()).toMatch(/^ey/);
    const warning = await until('the quota warning to fire', 30_000, async () =>
      (await alerts()).find((a) => a.labels.alertname === 'TesseraQuotaUtilisationWarning' && a.state === 'firing'),
    );
    expect(warning.labels).toMatchObject({
      credential: 'primary',
      operation: 'issue',
      job: 'tessera',
      severity: 'warning',
    });
    expect(Number(warning.value)).toBeCloseTo(0.8, 5);
    expect((await alerts()).find((a) => a.labels.alertname === 'TesseraQuotaUtilisationCritical')).toBeUndefined();
  });
});

describe('the shipped dashboard against the same Prometheus', () => {
  it('every panel query is valid PromQL and the identity server panels return data', async () => {
    const dashboard = JSON.parse(
      readFileSync(new URL('../../ops/grafana/tessera-dashboard.json', import.meta.url), 'utf8'),
    ) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
    const failures: string[] = [];
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets ?? []) {
        const query = expr
          .replaceAll('$__rate_interval', '1m')
          .replaceAll('$token_service_job', '.*')
          .replaceAll('$chat_job', '.*')
          .replaceAll('$job', '.*')
          .replaceAll('$instance', '.*');
        const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
        const body = (await res.json()) as { status: string; error?: string };
        if (body.status !== 'success') failures.push(`${panel.title}: ${body.error ?? res.status}`);
      }
    }
    expect(failures).toEqual([]);
    const q = encodeURIComponent('sum(tessera_requests_total{job="tessera"})');
    const body = (await (await fetch(`${promUrl}/api/v1/query?query=${q}`)).json()) as {
      data: { result: Array<{ value: [number, string] }> };
    };
    expect(Number(body.data.result[0]?.value[1])).toBeGreaterThan(0);
  });
});
