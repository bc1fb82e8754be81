// The metric families export what Prometheus expects (cumulative buckets, +Inf, _sum and _count, counters), and
// bounded labels cap cardinality.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { boundedLabel, counterFamily, createRequestMetrics, histogramFamily, OVERFLOW_LABEL } from '../src/index.js';

describe('counterFamily and histogramFamily', () => {
  it('write the Prometheus text format: counters, cumulative buckets with +Inf, _sum and _count', async () => {
    const registry = new Registry();
    const counter = counterFamily(registry, { name: 'x_total', help: 'X.', labelNames: ['op'] });
    counter.cell('a').inc();
    counter.cell('a').inc(2);
    counter.cell('b');
    const histogram = histogramFamily(registry, {
      name: 'y_seconds',
      help: 'Y.',
      labelNames: ['op'],
      buckets: [1, 0.1],
    });
    const cell = histogram.cell('a');
    for (const v of [0.05, 0.1, 0.5, 3]) cell.observe(v);
    expect(await registry.metrics()).toBe(
      [
        '# HELP x_total X.',
        '# TYPE x_total counter',
        'x_total{op="a"} 3',
        'x_total{op="b"} 0',
        '',
        '# HELP y_seconds Y.',
        '# TYPE y_seconds histogram',
        'y_seconds_bucket{op="a",le="0.1"} 2',
        'y_seconds_bucket{op="a",le="1"} 3',
        'y_seconds_bucket{op="a",le="+Inf"} 4',
        'y_seconds_sum{op="a"} 3.65',
        'y_seconds_count{op="a"} 4',
        '',
      ].join('\n'),
    );
  });

  it('keeps one series per label values, and refuses the wrong number of them', () => {
    const registry = new Registry();
    const counter = counterFamily(registry, { name: 'z_total', help: 'Z.', labelNames: ['a', 'b'] });
    expect(counter.cell('1', '2')).toBe(counter.cell('1', '2'));
    expect(counter.cell('1', '2')).not.toBe(counter.cell('12', ''));
    expect(() => counter.cell('1')).toThrow(/takes 2 label values/);
  });

  it('request metrics count by operation and status and time by operation', async () => {
    const registry = new Registry();
    const metrics = createRequestMetrics(registry, { prefix: 't_' });
    metrics.observe('op.one', 200, 0.002);
    metrics.observe('op.one', 200, 0.02);
    metrics.observe('op.one', 429, 0.0001);
    const text = await registry.metrics();
    expect(text).toContain('t_requests_total{operation="op.one",status="200"} 2');
    expect(text).toContain('t_requests_total{operation="op.one",status="429"} 1');
    expect(text).toContain('t_request_duration_seconds_count{operation="op.one"} 3');
    expect(text).toContain('t_request_duration_seconds_bucket{operation="op.one",le="0.0025"} 2');
  });
});

describe('boundedLabel', () => {
  it('passes the first values through and maps later ones to other', () => {
    const label = boundedLabel(2);
    expect([label('a'), label('b'), label('c'), label('a'), label('d')]).toEqual([
      'a',
      'b',
      OVERFLOW_LABEL,
      'a',
      'other',
    ]);
  });
});
