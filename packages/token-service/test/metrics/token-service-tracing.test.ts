// The token service's request spans: with an OpenTelemetry SDK registered (in-memory exporter), one span per request
// named after its route pattern, with its outcome.
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, call, startStack } from '../helpers/stack.js';

const exporter = new InMemorySpanExporter();
let stack: Stack;

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
  trace.disable();
  context.disable();
});

describe('token service spans', () => {
  it('one span per request, named after the route pattern, with outcome and status', async () => {
    // No metrics port: a registered SDK alone turns the spans on.
    const service = await stack.tokenService({ anonymous: true });
    expect(service.metricsUrl).toBeUndefined();
    exporter.reset();
    expect((await call(`${service.url}api/token`)).status).toBe(200);
    expect((await call(`${service.url}api/user`, { method: 'DELETE' })).status).toBe(404);
    const spans = exporter.getFinishedSpans().filter((s) => s.instrumentationScope.name === '@tessera/token-service');
    const token = spans.find((s) => s.name === 'GET /api/token');
    expect(token?.attributes).toMatchObject({ 'tessera.outcome': 'success', 'http.response.status_code': 200 });
    const refused = spans.find((s) => s.name === 'DELETE /api/user');
    expect(refused?.attributes).toMatchObject({ 'tessera.outcome': 'client_error', 'http.response.status_code': 404 });
  });
});
