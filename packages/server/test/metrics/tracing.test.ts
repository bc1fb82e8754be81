// OpenTelemetry through @opentelemetry/api only: with an SDK registered (here an in-memory exporter), one span per
// request named after its operation, with its outcome, and store and signing spans as its children.
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acsRequest,
  createIdentity,
  identityPath,
  startTestServer,
  type Target,
  type TestServer,
} from '../e2e/helpers.js';

const exporter = new InMemorySpanExporter();
let ts: TestServer;
let target: Target;

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  // No --metrics-port: a registered SDK alone turns the spans on.
  ts = await startTestServer();
  target = { url: ts.url, accessKey: ts.primaryKey };
});
afterAll(async () => {
  await ts?.close();
  trace.disable();
  context.disable();
});

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const childrenOf = (spans: readonly ReadableSpan[], parent: ReadableSpan) =>
  spans.filter((s) => parentOf(s) === parent.spanContext().spanId);

describe('OpenTelemetry spans', () => {
  it('one span per request named after the operation, with outcome and status, and a sign child span', async () => {
    const { identity } = await createIdentity(target);
    exporter.reset();
    const res = await acsRequest(target, 'POST', identityPath(identity.id, '/:issueAccessToken'), {
      json: { scopes: ['chat'] },
    });
    expect(res.status).toBe(200);
    const spans = exporter.getFinishedSpans();
    const request = spans.find((s) => s.name === 'identity.issueToken');
    expect(request).toBeDefined();
    if (request === undefined) return;
    expect(parentOf(request)).toBeUndefined();
    expect(request.attributes).toMatchObject({
      'tessera.operation': 'identity.issueToken',
      'tessera.outcome': 'success',
      'http.response.status_code': 200,
    });
    expect(childrenOf(spans, request).map((s) => s.name)).toContain('sign');
    // No identity id in span names or attributes either.
    for (const span of spans)
      expect(JSON.stringify([span.name, span.attributes])).not.toContain(identity.id.slice(-36));
  });

  it('store calls are child spans of the request; a refused request records its outcome and error code', async () => {
    exporter.reset();
    expect((await createIdentity(target)).identity.id).toMatch(/^8:acs:/);
    const spans = exporter.getFinishedSpans();
    const request = spans.find((s) => s.name === 'identity.create');
    expect(request).toBeDefined();
    if (request === undefined) return;
    expect(childrenOf(spans, request).map((s) => s.name)).toContain('store.createIdentity');

    exporter.reset();
    const denied = await acsRequest(
      { url: ts.url, accessKey: ts.verifierKey },
      'POST',
      identityPath((await createIdentity(target)).identity.id, '/:revokeAccessTokens'),
    );
    expect(denied.status).toBe(403);
    const refused = exporter.getFinishedSpans().find((s) => s.name === 'identity.revokeTokens');
    expect(refused?.attributes).toMatchObject({
      'tessera.outcome': 'client_error',
      'http.response.status_code': 403,
      'tessera.error_code': 'ERR_FORBIDDEN',
    });
  });
});
