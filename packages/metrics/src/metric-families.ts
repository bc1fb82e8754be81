import type { Registry } from 'prom-client';

/** One counter series: a plain number, so counting on a request path is one property write. */
export class CounterCell {
  value = 0;
  constructor(readonly labels: Readonly<Record<string, string>>) {}
  inc(by = 1): void {
    this.value += by;
  }
}

/** One histogram series: per-bucket counts (not cumulative until exported), sum and count. */
export class HistogramCell {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    (this.counts as { [index: number]: number })[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }
}

/** A labelled metric family: `cell(...labelValues)` returns (and keeps) the series for those values. */
export interface Family<Cell> {
  cell(...labelValues: string[]): Cell;
}

interface Options {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly string[];
}

function family<Cell>(options: Options, make: (labels: Record<string, string>) => Cell) {
  const labelNames = options.labelNames ?? [];
  const cells = new Map<string, Cell>();
  return {
    cells,
    cell(...values: string[]): Cell {
      if (values.length !== labelNames.length) {
        throw new TypeError(`${options.name} takes ${labelNames.length} label values, got ${values.length}`);
      }
      const key = values.join('\u0000');
      let cell = cells.get(key);
      if (cell === undefined) {
        const labels: Record<string, string> = {};
        labelNames.forEach((name, i) => {
          labels[name] = values[i] as string;
        });
        cell = make(labels);
        cells.set(key, cell);
      }
      return cell;
    },
  };
}

/**
 * A counter family whose series are plain numbers, exported at scrape time. prom-client's own label children hash
 * their labels on every increment (~1.5 µs here), which the issue path cannot afford; this costs one addition.
 */
export function counterFamily(registry: Registry, options: Options): Family<CounterCell> {
  const f = family(options, (labels) => new CounterCell(labels));
  const get = () => ({
    name: options.name,
    help: options.help,
    type: 'counter' as const,
    aggregator: 'sum' as const,
    values: [...f.cells.values()].map((c) => ({ labels: c.labels, value: c.value })),
  });
  registry.registerMetric({ name: options.name, help: options.help, type: 'counter', aggregator: 'sum', get } as never);
  return f;
}

/** The `le` label of a bucket bound, as Prometheus writes it. */
function le(bound: number): string {
  return bound === Number.POSITIVE_INFINITY ? '+Inf' : String(bound);
}

/** A histogram family like {@link counterFamily}: an observation is a short bucket scan and three additions. */
export function histogramFamily(
  registry: Registry,
  options: Options & { readonly buckets: readonly number[] },
): Family<HistogramCell> {
  const bounds = [...options.buckets].sort((a, b) => a - b);
  const f = family(options, (labels) => new HistogramCell(labels, bounds));
  const get = () => {
    const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
    for (const c of f.cells.values()) {
      let cumulative = 0;
      for (let i = 0; i <= bounds.length; i++) {
        cumulative += c.counts[i] as number;
        const bound = i < bounds.length ? (bounds[i] as number) : Number.POSITIVE_INFINITY;
        values.push({
          labels: { ...c.labels, le: le(bound) },
          value: cumulative,
          metricName: `${options.name}_bucket`,
        });
      }
      values.push({ labels: c.labels, value: c.sum, metricName: `${options.name}_sum` });
      values.push({ labels: c.labels, value: c.count, metricName: `${options.name}_count` });
    }
    return { name: options.name, help: options.help, type: 'histogram' as const, aggregator: 'sum' as const, values };
  };
  registry.registerMetric({
    name: options.name,
    help: options.help,
    type: 'histogram',
    aggregator: 'sum',
    get,
  } as never);
  return f;
}
