import { context, ProxyTracerProvider, type Span, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';

const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/** Whether an OpenTelemetry SDK has registered a tracer provider (otherwise every span would be a no-op). */
export function tracingRegistered(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NOOP_PROVIDER;
}

/** One span per request, named after its operation, with store and signing spans as children. */
export interface RequestTracing {
  /** False when no SDK was registered before the service started: then every method does nothing. */
  readonly enabled: boolean;
  readonly tracer: Tracer;
  /** Opens the request's span (call from `onRequest`). */
  start(request: object): void;
  /** Runs `fn` with the request's span active, so spans opened inside (store, signing) become its children. */
  within<T>(request: object, fn: () => T): T;
  /** Names the span after the operation, records the status and outcome, and ends it (call from `onResponse`). */
  end(request: object, operation: string, status: number, errorCode?: string): void;
}

/** Outcome attribute of a request span: `success` (< 400), `client_error` (4xx) or `server_error` (5xx). */
export function outcomeOf(status: number): 'success' | 'client_error' | 'server_error' {
  return status < 400 ? 'success' : status < 500 ? 'client_error' : 'server_error';
}

/**
 * Request spans through `@opentelemetry/api` only: a no-op unless the operator registers an SDK (for example with
 * `node --import ./otel.mjs`) before the service starts; whether one is registered is read once, here, so a
 * service without tracing pays nothing per request.
 */
export function createRequestTracing(options: { readonly name: string; readonly enabled?: boolean }): RequestTracing {
  const tracer = trace.getTracer(options.name);
  const enabled = options.enabled ?? tracingRegistered();
  const spans = new WeakMap<object, Span>();
  return {
    enabled,
    tracer,
    start(request) {
      if (enabled) spans.set(request, tracer.startSpan('request', {}, context.active()));
    },
    within(request, fn) {
      const span = enabled ? spans.get(request) : undefined;
      return span === undefined ? fn() : context.with(trace.setSpan(context.active(), span), fn);
    },
    end(request, operation, status, errorCode) {
      const span = enabled ? spans.get(request) : undefined;
      if (span === undefined) return;
      spans.delete(request);
      const outcome = outcomeOf(status);
      span.updateName(operation);
      span.setAttribute('tessera.operation', operation);
      span.setAttribute('tessera.outcome', outcome);
      span.setAttribute('http.response.status_code', status);
      if (errorCode !== undefined) span.setAttribute('tessera.error_code', errorCode);
      if (outcome === 'server_error') span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  };
}

/**
 * Runs `fn` inside a child span of the active request span; without one (tracing off, or background work outside
 * a request) it just runs `fn`, so no orphan root spans are made.
 */
export function childSpan<T>(tracer: Tracer, name: string, fn: () => Promise<T>): Promise<T> {
  const parent = trace.getSpan(context.active());
  if (parent === undefined) return fn();
  return tracer.startActiveSpan(name, {}, (span) =>
    fn().then(
      (value) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
        throw error;
      },
    ),
  );
}
