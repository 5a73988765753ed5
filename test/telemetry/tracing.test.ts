/**
 * Spans with the real OpenTelemetry SDK: the tree and attributes of a call with one retry and
 * one hedge (one INTERNAL span, one CLIENT span per attempt, span events for the retry and
 * the hedge), the traceparent each attempt carries, the caller's headers untouched, no secret
 * in any span, and one trace id across two real services.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { context, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { createMesh, type Mesh } from '../../src/index.ts';
import { startBackend, type Backend } from '../support/http-backend.ts';
import { installSdk, parentOf, type TestSdk } from './otel-sdk.ts';

const sdk: TestSdk = installSdk({ metrics: false });

describe('tracing: a call with one retry and one hedge', () => {
  let backend: Backend;
  let mesh: Mesh;
  let spans: ReadableSpan[];
  const callerHeaders = { authorization: 'Bearer s3cret-token', 'x-trace-me': 'yes' };

  before(async () => {
    let n = 0;
    // 1st request: 503 (retried); 2nd (the retry): slow (3 s, far past the 200 ms hedge delay even on a
    // loaded machine), so a hedge races it; 3rd (the hedge): fast 200.
    // The hedge delay must exceed the 503's round trip, or the first try is hedged instead.
    backend = await startBackend((_req, res) => {
      n++;
      if (n === 1) {
        res.statusCode = 503;
        res.end();
      } else if (n === 2) setTimeout(() => res.end('slow'), 3000).unref();
      else res.end('fast');
    });
    mesh = await createMesh({
      service: 'checkout',
      config: { services: { payments: { endpoints: [backend.address], retry: { attempts: 2, backoff: { base: '1ms', max: '2ms' }, budget: false }, hedge: { after: '200ms', maxExtraLoad: 1 } } } },
    });
    sdk.spans.reset();
    const response = await mesh.client('payments').request({ path: '/charge?card=4111111111111111&token=s3cret-token', headers: callerHeaders });
    assert.equal(await response.body.text(), 'fast');
    // The losing retry's span ends as its abort comes back from undici.
    await new Promise((resolve) => setTimeout(resolve, 100));
    spans = await sdk.finished();
  });

  after(async () => {
    await mesh.close();
    await backend.close();
  });

  it('makes one INTERNAL span for the call and one CLIENT span per attempt below it', () => {
    const internal = spans.filter((span) => span.kind === SpanKind.INTERNAL);
    const client = spans.filter((span) => span.kind === SpanKind.CLIENT);
    assert.equal(internal.length, 1);
    assert.equal(client.length, 3);
    const call = internal[0]!;
    assert.equal(call.name, 'GET payments');
    for (const span of client) {
      assert.equal(parentOf(span), call.spanContext().spanId);
      assert.equal(span.spanContext().traceId, call.spanContext().traceId);
      assert.equal(span.name, 'GET');
    }
    assert.equal(call.attributes['meshlet.service'], 'payments');
    assert.equal(call.attributes['http.response.status_code'], 200);
    assert.equal(call.attributes['meshlet.attempts'], 3);
  });

  it('gives each attempt the HTTP client semconv attributes, resend counts on the retry and the hedge', () => {
    const client = spans.filter((span) => span.kind === SpanKind.CLIENT).sort((a, b) => Number(a.attributes['http.request.resend_count'] ?? 0) - Number(b.attributes['http.request.resend_count'] ?? 0));
    const [first, retry, hedge] = client;
    const [host, port] = backend.address.split(':');
    for (const span of client) {
      assert.equal(span.attributes['http.request.method'], 'GET');
      assert.equal(span.attributes['server.address'], host);
      assert.equal(span.attributes['server.port'], Number(port));
      assert.equal(span.attributes['url.full'], `http://${backend.address}/charge?card=REDACTED&token=REDACTED`);
      assert.equal(span.attributes['meshlet.service'], 'payments');
      assert.equal(span.attributes['meshlet.endpoint'], backend.address);
    }
    assert.equal(first!.attributes['http.request.resend_count'], undefined);
    assert.equal(first!.attributes['http.response.status_code'], 503);
    assert.equal(first!.attributes['error.type'], '503');
    assert.equal(first!.attributes['meshlet.hedge'], false);
    assert.equal(retry!.attributes['http.request.resend_count'], 1);
    assert.equal(retry!.attributes['meshlet.hedge'], false);
    assert.equal(retry!.attributes['error.type'], 'MESH_ABORTED', 'the retry lost the race to its hedge');
    assert.equal(hedge!.attributes['http.request.resend_count'], 2);
    assert.equal(hedge!.attributes['meshlet.hedge'], true);
    assert.equal(hedge!.attributes['http.response.status_code'], 200);
    assert.equal(hedge!.attributes['error.type'], undefined);
  });

  it('records the retry and the hedge as events on the call span', () => {
    const call = spans.find((span) => span.kind === SpanKind.INTERNAL)!;
    const names = call.events.map((event) => event.name);
    assert.deepEqual(names, ['meshlet.retry', 'meshlet.hedge']);
    assert.equal(call.events[0]!.attributes?.['meshlet.retry.reason'], '503');
  });

  it('sends each attempt its own span as traceparent, once, and leaves the caller headers alone', () => {
    const client = spans.filter((span) => span.kind === SpanKind.CLIENT);
    const sent = backend.received.map((request) => request.headers.traceparent);
    assert.equal(sent.length, 3);
    for (const header of sent) assert.equal(typeof header, 'string', 'one traceparent header, not a list');
    const expected = client.map((span) => `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`).sort();
    assert.deepEqual([...sent].sort(), expected);
    assert.deepEqual(callerHeaders, { authorization: 'Bearer s3cret-token', 'x-trace-me': 'yes' });
  });

  it('puts no token, Authorization value, or query value in any span or event', () => {
    const text = JSON.stringify(spans.map((span) => ({ name: span.name, attributes: span.attributes, events: span.events, status: span.status })));
    for (const secret of ['s3cret-token', '4111111111111111', 'Bearer', 'authorization']) assert.ok(!text.includes(secret), `${secret} found in a span`);
  });
});

describe('tracing: across two real services', () => {
  it('keeps one trace id from the caller through meshlet to a server that extracts it', async () => {
    const tracer = trace.getTracer('test-server');
    let serverTraceId: string | undefined;
    const server = await startBackend((req, res) => {
      const parent = propagation.extract(ROOT_CONTEXT, req.headers);
      const span = tracer.startSpan('GET /orders', { kind: SpanKind.SERVER }, parent);
      serverTraceId = span.spanContext().traceId;
      span.end();
      res.end('ok');
    });
    const mesh = await createMesh({ service: 'web', config: { services: { orders: { endpoints: [server.address] } } } });
    try {
      sdk.spans.reset();
      const root = tracer.startSpan('incoming request');
      await context.with(trace.setSpan(context.active(), root), async () => {
        await (await mesh.client('orders').request({ path: '/orders' })).body.text();
      });
      root.end();
      const spans = await sdk.finished();
      const traceIds = new Set(spans.map((span) => span.spanContext().traceId));
      assert.deepEqual([...traceIds], [root.spanContext().traceId]);
      assert.equal(serverTraceId, root.spanContext().traceId);
      const server = spans.find((span) => span.kind === SpanKind.SERVER)!;
      const client = spans.find((span) => span.kind === SpanKind.CLIENT)!;
      const call = spans.find((span) => span.kind === SpanKind.INTERNAL && span.name === 'GET orders')!;
      assert.equal(parentOf(server), client.spanContext().spanId);
      assert.equal(parentOf(client), call.spanContext().spanId);
      assert.equal(parentOf(call), root.spanContext().spanId);
    } finally {
      await mesh.close();
      await server.close();
    }
  });
});
