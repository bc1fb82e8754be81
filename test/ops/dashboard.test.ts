// The shipped Grafana dashboard and alert rules query only metrics the services (identity server, token service,
// chat service) export, every exported Tessera metric is on the dashboard and documented in docs/operations.md, and
// nothing documented is missing from the code.
import { readFileSync } from 'node:fs';
import { createChatMetrics } from '@tessera/chat';
import { createTokenServiceMetrics } from '@tessera/token-service';
import { describe, expect, it } from 'vitest';
import { createServerMetrics } from '../../packages/server/src/metrics/server-metrics.js';
import type { Store } from '../../packages/server/src/store/store.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

interface Panel {
  readonly type: string;
  readonly title: string;
  readonly targets?: ReadonlyArray<{ readonly expr: string }>;
}

/** Every metric name a PromQL text mentions (histogram series reduced to their metric). */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b((?:tessera|nodejs|process)_[a-z0-9_]+)/g)].map((m) =>
    (m[1] as string).replace(/_(bucket|count|sum)$/, ''),
  );
}

async function exported(): Promise<Set<string>> {
  const server = createServerMetrics({ policy: {}, clock: Date.now });
  // The wrappers register their metrics as the server builds them.
  server.instrumentRateLimiter({ take() {} });
  server.instrumentStore({} as Store);
  server.instrumentSigner({ kid: 'k', sign: async () => '' });
  const tokenService = createTokenServiceMetrics();
  const chat = createChatMetrics();
  const names = new Set<string>();
  for (const registry of [server.registry, tokenService.registry, chat.registry]) {
    for (const metric of await registry.getMetricsAsJSON()) names.add(metric.name);
  }
  return names;
}

const dashboard = JSON.parse(read('ops/grafana/tessera-dashboard.json')) as { panels: Panel[]; uid: string };
const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
const rules = read('ops/prometheus/tessera-alerts.yml');

describe('ops/grafana/tessera-dashboard.json', () => {
  it('is a dashboard whose panels all query something', () => {
    expect(dashboard.uid).toBe('tessera-overview');
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
    }
  });

  it('queries, like the alert rules, only metrics the identity server, token service and chat service export', async () => {
    const names = await exported();
    const used = new Set([...exprs.flatMap(metricsIn), ...metricsIn(rules)]);
    expect([...used].filter((name) => !names.has(name))).toEqual([]);
  });

  it('shows every Tessera metric, and docs/operations.md documents each one and no other', async () => {
    const tessera = [...(await exported())].filter((n) => n.startsWith('tessera_')).sort();
    const shown = new Set(exprs.flatMap(metricsIn));
    expect(tessera.filter((name) => !shown.has(name))).toEqual([]);
    const page = read('docs/operations.md');
    const documented = [...page.matchAll(/^\| `(tessera_[a-z0-9_]+)` \|/gm)].map((m) => m[1] as string).sort();
    expect(documented).toEqual(tessera);
  });
});
