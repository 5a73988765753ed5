/**
 * Telemetry where calls go wrong or look odd, with the real SDK: a caller's abort mid-flight
 * ends both spans and reports the abort as not the dependency's fault; a routed call names its
 * route on spans, metrics and channel messages; a method outside the semconv list stays a
 * bounded span name; a breaker's state rides on the attempt spans; the query redaction of
 * url.full on hostile input.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { createMesh, type Mesh } from '../../src/index.ts';
import { redactedPath } from '../../src/telemetry/redact-url.ts';
import { startBackend, type Backend } from '../support/http-backend.ts';
import { installSdk, type TestSdk } from './otel-sdk.ts';

const sdk: TestSdk = installSdk();

describe('telemetry edge cases', () => {
  let backend: Backend;
  let mesh: Mesh;

  before(async () => {
    backend = await startBackend((req, res) => {
      if (req.url?.startsWith('/slow')) setTimeout(() => res.end('late'), 2000).unref();
      else res.end('ok');
    });
    mesh = await createMesh({
      service: 'checkout',
      config: {
        services: {
          payments: { endpoints: [backend.address], breaker: { errorRate: 0.9, minRequests: 100 } },
          catalog: {
            endpoints: [{ address: backend.address, tags: ['v1'] }],
            subsets: { v1: { tags: ['v1'] } },
            routes: [{ name: 'books', match: { pathPrefix: '/books' }, to: [{ subset: 'v1' }] }, { name: 'rest', to: [{ subset: 'v1' }] }],
          },
        },
      },
    });
  });

  after(async () => {
    await mesh.close();
    await backend.close();
  });

  it('a caller abort mid-flight ends the attempt and call spans with MESH_ABORTED, outcome not-the-dependency', async () => {
    sdk.spans.reset();
    const ends: Array<Record<string, unknown>> = [];
    const onEnd = (message: unknown) => ends.push(message as Record<string, unknown>);
    diagnosticsChannel.subscribe('meshlet:call:end', onEnd);
    const controller = new AbortController();
    const pending = mesh.client('payments').request({ path: '/slow', signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(pending, { code: 'MESH_ABORTED' });
    diagnosticsChannel.unsubscribe('meshlet:call:end', onEnd);
    const spans = await sdk.finished();
    const client = spans.filter((span) => span.kind === SpanKind.CLIENT);
    const call = spans.filter((span) => span.kind === SpanKind.INTERNAL);
    assert.equal(client.length, 1);
    assert.equal(call.length, 1);
    assert.equal(client[0]!.attributes['error.type'], 'MESH_ABORTED');
    assert.equal(client[0]!.status.code, SpanStatusCode.ERROR);
    assert.equal(call[0]!.attributes['error.type'], undefined, 'the caller cancelled: not a failed call');
    assert.deepEqual({ outcome: ends[0]!.outcome, code: ends[0]!.errorCode }, { outcome: 'not-the-dependency', code: 'MESH_ABORTED' });
  });

  it('a routed call names its route (and its target subset, on spans) on spans, metrics and channel messages', async () => {
    sdk.spans.reset();
    const starts: Array<Record<string, unknown>> = [];
    const onStart = (message: unknown) => starts.push(message as Record<string, unknown>);
    diagnosticsChannel.subscribe('meshlet:call:start', onStart);
    await (await mesh.client('catalog').request({ path: '/books/1' })).body.text();
    await (await mesh.client('catalog').request({ path: '/music/1' })).body.text();
    diagnosticsChannel.unsubscribe('meshlet:call:start', onStart);
    assert.deepEqual(starts.map((message) => message.route), ['books', 'rest']);
    const spans = await sdk.finished();
    const routes = spans.filter((span) => span.kind === SpanKind.CLIENT).map((span) => [span.attributes['meshlet.route'], span.attributes['meshlet.subset']]);
    assert.deepEqual(routes, [['books', 'v1'], ['rest', 'v1']]);
    const calls = (await sdk.collect()).get('meshlet.client.calls')!;
    const byRoute = (calls.dataPoints as Array<{ attributes: Record<string, unknown>; value: number }>).filter((point) => point.attributes['meshlet.service'] === 'catalog').map((point) => [point.attributes['meshlet.route'], point.value]);
    assert.deepEqual(byRoute.sort(), [['books', 1], ['rest', 1]]);
  });

  it('a method outside the semconv list is named HTTP with http.request.method _OTHER', async () => {
    sdk.spans.reset();
    await (await mesh.client('payments').request({ method: 'PURGE', path: '/' })).body.text();
    const finished = await sdk.finished();
    const client = finished.find((span) => span.kind === SpanKind.CLIENT)!;
    // Regression: the call's span was named with the raw method ('PURGE payments'), unbounded for a proxy passing any method on.
    assert.equal(finished.find((span) => span.kind === SpanKind.INTERNAL)!.name, 'HTTP payments');
    assert.equal(client.name, 'HTTP');
    assert.equal(client.attributes['http.request.method'], '_OTHER');
    assert.equal(client.attributes['http.request.method_original'], 'PURGE');
  });

  it('attempt spans carry the breaker state of a service that has one, and none for one that has not', async () => {
    sdk.spans.reset();
    await (await mesh.client('payments').request({ path: '/' })).body.text();
    await (await mesh.client('catalog').request({ path: '/' })).body.text();
    const client = (await sdk.finished()).filter((span) => span.kind === SpanKind.CLIENT);
    assert.deepEqual(client.map((span) => [span.attributes['meshlet.service'], span.attributes['meshlet.breaker.state']]), [['payments', 'closed'], ['catalog', undefined]]);
  });
});

describe('span events for budget refusals, ejections and breaker transitions', () => {
  it('puts each on the span of the call (or attempt) it happened in', async () => {
    const sick = await startBackend((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    const mesh = await createMesh({
      service: 'checkout',
      config: {
        services: {
          sick: {
            endpoints: [sick.address],
            retry: { attempts: 2, backoff: { base: '1ms', max: '2ms' }, budget: { ratio: 0, minPerSecond: 0 } },
            outlier: { consecutiveFailures: 2, maxEjectedPercent: 100, ejectFor: '30s' },
            breaker: { errorRate: 0.5, minRequests: 2, window: '10s', openFor: '10s' },
          },
        },
      },
    });
    try {
      sdk.spans.reset();
      for (let i = 0; i < 2; i++) await (await mesh.client('sick').request({ path: '/' })).body.dump();
      const events = (await sdk.finished()).flatMap((span) => span.events.map((event) => `${span.kind === SpanKind.CLIENT ? 'attempt' : 'call'}:${event.name}`));
      assert.ok(events.includes('call:meshlet.retry_budget.exhausted'), events.join(', '));
      assert.ok(events.some((event) => event.endsWith(':meshlet.eject')), events.join(', '));
      assert.ok(events.includes('call:meshlet.breaker'), events.join(', '));
    } finally {
      await mesh.close();
      await sick.close();
    }
  });

  it("an attempt span's breaker state follows the breaker's transitions (kept from its events, not read per attempt)", async () => {
    let status = 503;
    const backend = await startBackend((_req, res) => {
      res.statusCode = status;
      res.end();
    });
    const breaker = { errorRate: 0.5, minRequests: 2, window: '10s', openFor: '150ms' };
    const mesh = await createMesh({ service: 'checkout', config: { services: { flip: { endpoints: [backend.address], retry: false, outlier: false, breaker } } } });
    try {
      sdk.spans.reset();
      for (let i = 0; i < 2; i++) await (await mesh.client('flip').request({ path: '/' })).body.dump();
      await assert.rejects(mesh.client('flip').request({ path: '/' }), { code: 'MESH_CIRCUIT_OPEN' });
      status = 200;
      await new Promise((resolve) => setTimeout(resolve, 250));
      await (await mesh.client('flip').request({ path: '/' })).body.dump(); // the half-open probe closes it
      await (await mesh.client('flip').request({ path: '/' })).body.dump();
      const states = (await sdk.finished()).filter((span) => span.kind === SpanKind.CLIENT).map((span) => span.attributes['meshlet.breaker.state']);
      assert.deepEqual(states, ['closed', 'closed', 'half-open', 'closed']);
    } finally {
      await mesh.close();
      await backend.close();
    }
  });
});

describe('url.full query redaction', () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['/a', '/a'],
    ['/a?', '/a?'],
    ['/a?x=1&token=s3cret', '/a?x=REDACTED&token=REDACTED'],
    ['/a?s3cret', '/a?REDACTED'],
    ['/a?=s3cret&&b=', '/a?=REDACTED&REDACTED&b=REDACTED'],
    ['/a?x=1#frag-s3cret', '/a?x=REDACTED'],
    ['/a#?x=s3cret', '/a'],
    ['/a?x=a=b=s3cret', '/a?x=REDACTED'],
  ];
  for (const [path, expected] of cases) {
    it(`${JSON.stringify(path)} -> ${JSON.stringify(expected)}`, () => {
      assert.equal(redactedPath(path), expected);
    });
  }
});
