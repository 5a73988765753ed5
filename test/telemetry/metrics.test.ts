/**
 * Metric values with the real OpenTelemetry SDK after a known sequence of calls: logical
 * calls by status class and outcome, per-attempt http.client.request.duration (seconds, the
 * semconv buckets, server.address = the logical service), retries, budget refusals, shed
 * calls, ejections, config rejections, and the gauges read from state() at collection. The
 * mesh is made BEFORE the SDK is installed: its first calls are not measured, and
 * refreshTelemetry() makes the next ones count (the documented way to notice a late SDK).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import { type ControlListener, type ControlStore, createMesh, type Mesh, refreshTelemetry } from '../../src/index.ts';
import { startBackend, type Backend } from '../support/http-backend.ts';
import { eventually } from '../support/waits.ts';
import { installSdk, type TestSdk } from './otel-sdk.ts';

type Point = { attributes: Record<string, unknown>; value: number | { count: number; sum: number; buckets: { boundaries: number[] } } };

function points(metric: MetricData | undefined): Point[] {
  return (metric?.dataPoints ?? []) as Point[];
}

/** The sum (counters), count (histograms) or value (gauges) of the points whose attributes include `match`. */
function total(metric: MetricData | undefined, match: Record<string, unknown> = {}): number {
  let sum = 0;
  for (const point of points(metric)) {
    if (!Object.entries(match).every(([key, value]) => point.attributes[key] === value)) continue;
    sum += typeof point.value === 'number' ? point.value : point.value.count;
  }
  return sum;
}

describe('metrics after a known sequence of calls', () => {
  let backend: Backend;
  let mesh: Mesh;
  let listener: ControlListener | undefined;
  let sdk: TestSdk;
  const script: number[] = [];

  const config = (backendAddress: string) => ({
    services: {
      payments: { endpoints: [backendAddress], retry: { attempts: 2, backoff: { base: '1ms', max: '2ms' }, budget: false }, breaker: { errorRate: 0.9, minRequests: 100 } },
      stingy: { endpoints: [backendAddress], retry: { attempts: 2, backoff: { base: '1ms', max: '2ms' }, budget: { ratio: 0, minPerSecond: 0 } } },
      limited: { endpoints: [backendAddress], rateLimit: { rps: 0.001, burst: 1 } },
      flaky: { endpoints: [backendAddress], retry: false, outlier: { consecutiveFailures: 1, maxEjectedPercent: 100, ejectFor: '30s' } },
    },
  });

  before(async () => {
    backend = await startBackend((_req, res) => {
      res.statusCode = script.shift() ?? 200;
      res.end();
    });
    const store: ControlStore = {
      source: 'test:pushed',
      async watch(l) {
        listener = l;
        l.snapshot(config(backend.address));
      },
      async close() {},
    };
    mesh = await createMesh({ service: 'checkout', control: store });
    await (await mesh.client('payments').request({ path: '/' })).body.dump();
    sdk = installSdk();
    await (await mesh.client('payments').request({ path: '/' })).body.dump();
    refreshTelemetry();
    const call = async (service: string) => {
      try {
        await (await mesh.client(service).request({ path: '/' })).body.dump();
      } catch {
        // refused calls (rate limit) count too
      }
    };
    await call('payments'); // 200
    script.push(503);
    await call('payments'); // 503, retried: 200
    script.push(503, 503);
    await call('payments'); // 503, 503: the caller gets the 503
    script.push(503);
    await call('stingy'); // 503, the retry refused by an empty budget
    await call('limited'); // admitted (burst 1)
    await call('limited'); // shed
    script.push(500);
    await call('flaky'); // 500: ejected
    listener!.snapshot({ services: { payments: { endpoints: [backend.address], timeout: 'soon' } } });
    await eventually(() => mesh.state().config !== undefined && JSON.stringify(mesh.state()).includes('soon'), 'the rejection');
  });

  after(async () => {
    await mesh.close();
    await backend.close();
    await sdk.shutdown();
  });

  it('counts logical calls by service, status class and outcome, only from refreshTelemetry() on', async () => {
    const metrics = await sdk.collect();
    const calls = metrics.get('meshlet.client.calls');
    assert.equal(total(calls, { 'meshlet.service': 'payments' }), 3, 'the two calls before refreshTelemetry() are not counted');
    assert.equal(total(calls, { 'meshlet.service': 'payments', 'meshlet.status_class': '2xx', 'meshlet.outcome': 'success' }), 2);
    assert.equal(total(calls, { 'meshlet.service': 'payments', 'meshlet.status_class': '5xx', 'meshlet.outcome': 'failure' }), 1);
    assert.equal(total(metrics.get('meshlet.client.call.duration'), { 'meshlet.service': 'payments' }), 3);
    assert.equal(total(calls, { 'meshlet.service': 'limited', 'meshlet.status_class': 'error', 'meshlet.outcome': 'not-the-dependency' }), 1, 'the shed call');
  });

  it('records http.client.request.duration per attempt, in seconds, on the semconv buckets, with the service as server.address', async () => {
    const metric = (await sdk.collect()).get('http.client.request.duration')!;
    assert.equal(metric.descriptor.unit, 's');
    assert.equal(total(metric, { 'server.address': 'payments' }), 5);
    assert.equal(total(metric, { 'server.address': 'payments', 'http.response.status_code': 200 }), 2);
    assert.equal(total(metric, { 'server.address': 'payments', 'http.response.status_code': 503, 'error.type': '503' }), 3);
    for (const point of points(metric)) {
      assert.equal(point.attributes['server.port'], undefined, 'no endpoint port on the hot instrument');
      assert.ok(!String(point.attributes['server.address']).includes('127.0.0.1'), 'no endpoint address on the hot instrument');
      const value = point.value as { sum: number; buckets: { boundaries: number[] } };
      assert.deepEqual(value.buckets.boundaries, [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]);
      assert.ok(value.sum < 5, 'seconds, not milliseconds');
    }
  });

  it('counts retries, budget refusals, shed calls, ejections and config rejections', async () => {
    const metrics = await sdk.collect();
    assert.equal(total(metrics.get('meshlet.client.retries'), { 'meshlet.service': 'payments' }), 2);
    assert.equal(total(metrics.get('meshlet.client.retry_budget.exhausted'), { 'meshlet.service': 'stingy' }), 1);
    assert.equal(total(metrics.get('meshlet.client.shed'), { 'meshlet.service': 'limited', 'meshlet.shed.reason': 'rate-limited' }), 1);
    assert.equal(total(metrics.get('meshlet.endpoint.ejections'), { 'meshlet.service': 'flaky' }), 1);
    assert.equal(total(metrics.get('meshlet.config.rejections'), { 'meshlet.source': 'test' }), 1);
  });

  it('observes breaker state, endpoints, config version and control-store health from state()', async () => {
    const metrics = await sdk.collect();
    assert.equal(total(metrics.get('meshlet.breaker.state'), { 'meshlet.service': 'payments' }), 0, 'closed');
    assert.equal(points(metrics.get('meshlet.breaker.state')).length, 1, 'only the service with a breaker');
    assert.equal(total(metrics.get('meshlet.endpoints'), { 'meshlet.service': 'flaky' }), 1);
    assert.equal(total(metrics.get('meshlet.endpoints.healthy'), { 'meshlet.service': 'flaky' }), 0);
    assert.equal(total(metrics.get('meshlet.endpoints.healthy'), { 'meshlet.service': 'payments' }), 1);
    // The bootstrap (empty) is version 1, the store's first snapshot 2; the rejected push changes nothing.
    assert.equal(total(metrics.get('meshlet.config.version'), { 'meshlet.mesh': 'checkout' }), 2);
    assert.equal((mesh.state().config as { version: number }).version, 2);
    assert.equal(total(metrics.get('meshlet.control.healthy'), { 'meshlet.mesh': 'checkout' }), 1);
  });

  it('regression: two meshes with a service of the same name observe a gauge series each (one was lost)', async () => {
    const other = await createMesh({ service: 'gauge-other', config: { services: { payments: { endpoints: ['127.0.0.1:1', '127.0.0.1:2'] } } } });
    try {
      const endpoints = (await sdk.collect()).get('meshlet.endpoints');
      assert.equal(total(endpoints, { 'meshlet.mesh': 'checkout', 'meshlet.service': 'payments' }), 1);
      assert.equal(total(endpoints, { 'meshlet.mesh': 'gauge-other', 'meshlet.service': 'payments' }), 2);
    } finally {
      await other.close();
    }
  });

  it('labels stay bounded: no path, endpoint address or query in any metric attribute', async () => {
    const text = JSON.stringify([...(await sdk.collect()).values()].map((metric) => points(metric).map((point) => point.attributes)));
    assert.ok(!text.includes(backend.address));
    assert.ok(!text.includes('"/'));
  });
});
