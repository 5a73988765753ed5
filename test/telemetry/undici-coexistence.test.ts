/**
 * meshlet beside @opentelemetry/instrumentation-undici (registered before any request, as it
 * must be: it hooks undici's diagnostics channels). The default: meshlet owns the attempt
 * spans and dispatches under the suppress-tracing flag, so each attempt has exactly one
 * CLIENT span and one traceparent; undici's own requests outside meshlet keep their spans.
 * With `ignoreRequestHook: isMeshletAttempt` the instrumentation also records no second
 * http.client.request.duration for meshlet's attempts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { request } from 'undici';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import { installSdk, type TestSdk } from './otel-sdk.ts';
import { createMesh, isMeshletAttempt, type Mesh } from '../../src/index.ts';
import { startBackend, type Backend } from '../support/http-backend.ts';
import { DISPATCH_CONTEXT } from '../../src/telemetry/otel-tracing.ts';

const sdk: TestSdk = installSdk();
const undiciInstrumentation = new UndiciInstrumentation();
undiciInstrumentation.setTracerProvider(sdk.tracerProvider);
undiciInstrumentation.enable();

/** How many times a header arrived on one request (rawHeaders keeps duplicates). */
function headerCount(rawHeaders: string[], name: string): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === name) count++;
  return count;
}

describe('beside instrumentation-undici', () => {
  it("dispatches under @opentelemetry/core's own suppress-tracing key (meshlet recreates it with the api only)", () => {
    assert.equal(isTracingSuppressed(ROOT_CONTEXT), false);
    assert.equal(isTracingSuppressed(DISPATCH_CONTEXT), true);
  });

  let backend: Backend;
  let mesh: Mesh;
  const rawTraceparents: number[] = [];
  let failNext = 0;

  before(async () => {
    backend = await startBackend((req, res) => {
      rawTraceparents.push(headerCount(req.rawHeaders, 'traceparent'));
      res.statusCode = failNext-- > 0 ? 503 : 200;
      res.end('ok');
    });
    mesh = await createMesh({ service: 'checkout', config: { services: { payments: { endpoints: [backend.address], retry: { attempts: 2, backoff: { base: '1ms', max: '2ms' }, budget: false } } } } });
  });

  after(async () => {
    undiciInstrumentation.disable();
    await mesh.close();
    await backend.close();
    await sdk.shutdown();
  });

  it('one CLIENT span and one traceparent per attempt of a retried call', async () => {
    sdk.spans.reset();
    rawTraceparents.length = 0;
    failNext = 1;
    await (await mesh.client('payments').request({ path: '/' })).body.text();
    const client = (await sdk.finished()).filter((span) => span.kind === SpanKind.CLIENT);
    assert.equal(client.length, 2, `CLIENT spans: ${client.map((span) => span.instrumentationScope.name).join(', ')}`);
    for (const span of client) assert.equal(span.instrumentationScope.name, 'meshlet');
    assert.deepEqual(rawTraceparents, [1, 1]);
    const sent = backend.received.slice(-2).map((received) => received.headers.traceparent);
    assert.deepEqual(sent.sort(), client.map((span) => `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`).sort());
  });

  it('regression: the retry is an event on the call span here too (it fired in the ended attempt span\'s context and was dropped)', async () => {
    sdk.spans.reset();
    failNext = 1;
    await (await mesh.client('payments').request({ path: '/' })).body.text();
    const spans = await sdk.finished();
    const call = spans.find((span) => span.kind === SpanKind.INTERNAL)!;
    assert.deepEqual(call.events.map((event) => event.name), ['meshlet.retry']);
    for (const span of spans.filter((span) => span.kind === SpanKind.CLIENT)) assert.deepEqual(span.events, []);
  });

  it('the instrumentation is live: a plain undici request outside meshlet gets its span and traceparent', async () => {
    sdk.spans.reset();
    rawTraceparents.length = 0;
    await (await request(backend.url)).body.text();
    const client = (await sdk.finished()).filter((span) => span.kind === SpanKind.CLIENT);
    assert.equal(client.length, 1);
    assert.notEqual(client[0]!.instrumentationScope.name, 'meshlet');
    assert.deepEqual(rawTraceparents, [1]);
  });

  it('without a hook the instrumentation still records its own duration for a suppressed attempt (why the hook exists)', async () => {
    const before = await attemptCounts();
    await (await mesh.client('payments').request({ path: '/' })).body.text();
    const after = await attemptCounts();
    assert.equal(after.meshlet - before.meshlet, 1);
    assert.equal(after.other - before.other, 1);
  });

  it('with ignoreRequestHook: isMeshletAttempt, http.client.request.duration counts each attempt once', async () => {
    undiciInstrumentation.setConfig({ ignoreRequestHook: isMeshletAttempt });
    const before = await attemptCounts();
    failNext = 1;
    await (await mesh.client('payments').request({ path: '/' })).body.text();
    const after = await attemptCounts();
    assert.equal(after.meshlet - before.meshlet, 2, 'meshlet records both attempts');
    assert.equal(after.other - before.other, 0, 'the instrumentation records none of them');
  });

  /** http.client.request.duration counts: meshlet's and the instrumentation's (to our backend). */
  async function attemptCounts(): Promise<{ meshlet: number; other: number }> {
    const count = (metric: MetricData | undefined) => ((metric?.dataPoints ?? []) as Array<{ value: { count: number } }>).reduce((sum, point) => sum + point.value.count, 0);
    const meshlet = count((await sdk.collect()).get('http.client.request.duration'));
    const other = count((await sdk.collect(undiciInstrumentation.instrumentationName)).get('http.client.request.duration'));
    return { meshlet, other };
  }
});
