import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MeshError } from '../../src/core/errors.ts';
import { MeshEventEmitter } from '../../src/core/events.ts';
import type { Layer, Service } from '../../src/core/service.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';
import { callStatus, ctxFor, breakerFor, get, type PoolTransport, policyFor, poolTransport, stateOf } from './layer-harness.ts';
import { attemptFor } from '../support/attempt.ts';

const breaker = { errorRate: 0.5, minRequests: 4, window: 1000, openFor: 150 };

describe('breaker layer', () => {
  let status = 500;
  let delayMs = 0;
  let backend: Backend;
  let transport: PoolTransport;

  before(async () => {
    backend = await startBackend(async (_req, res) => {
      if (delayMs > 0) await sleep(delayMs);
      res.statusCode = status;
      res.end('x');
    });
    transport = poolTransport(backend.url);
  });
  after(async () => {
    await transport.close();
    await backend.close();
  });

  /** The breaker layer over the backend, with the states its events report, in order. */
  function watchedBreaker(): { layer: Layer; service: Service; seen: string[] } {
    const events = new MeshEventEmitter();
    const seen: string[] = [];
    events.on('breaker', (e) => seen.push(e.state));
    const layer = breakerFor(policyFor({ breaker }), undefined, events);
    return { layer, service: layer.wrap(transport), seen };
  }

  it('returns inner unchanged when the breaker is off', () => {
    const layer = breakerFor(policyFor({ breaker: false }));
    assert.equal(layer.wrap(transport), transport);
    assert.equal(layer.state?.(), undefined);
  });

  it('hands 5xx to the caller while closed, opens past the error rate, then fails fast without sending', async () => {
    status = 500;
    const { layer, service, seen } = watchedBreaker();
    const before = backend.received.length;
    for (let i = 0; i < 4; i++) assert.equal(await callStatus(service), 500);
    assert.deepEqual(seen, ['open']);
    const error = await service.call(get(), ctxFor()).catch((e: unknown) => e);
    assert.ok(error instanceof MeshError);
    assert.equal(error.code, 'MESH_CIRCUIT_OPEN');
    assert.match(error.message, /probe call through in \d+ms/);
    assert.equal(backend.received.length - before, 4, 'an open breaker sends nothing');
    assert.equal(stateOf<{ state: string }>(layer).state, 'open');
    await layer.close?.();
  });

  it('lets one probe at a time through when half-open and closes on its success', async () => {
    status = 500;
    const { layer, service, seen } = watchedBreaker();
    for (let i = 0; i < 4; i++) await callStatus(service);
    await sleep(breaker.openFor + 30);
    assert.equal(stateOf<{ state: string }>(layer).state, 'half-open');
    status = 200;
    delayMs = 60;
    const before = backend.received.length;
    const [probe, second] = await Promise.all([callStatus(service), callStatus(service)]);
    delayMs = 0;
    assert.equal(probe, 200);
    assert.equal(second, 'MESH_CIRCUIT_OPEN', 'only one probe while half-open');
    assert.equal(backend.received.length - before, 1);
    assert.deepEqual(seen, ['open', 'half-open', 'closed']);
    assert.equal(await callStatus(service), 200);
    await layer.close?.();
  });

  it('re-opens when the half-open probe fails', async () => {
    status = 503;
    const layer = breakerFor(policyFor({ breaker }));
    const service = layer.wrap(transport);
    for (let i = 0; i < 4; i++) await callStatus(service);
    await sleep(breaker.openFor + 30);
    assert.equal(await callStatus(service), 503, 'the probe response reaches the caller');
    assert.equal(stateOf<{ state: string }>(layer).state, 'open');
    assert.equal(await callStatus(service), 'MESH_CIRCUIT_OPEN');
    await layer.close?.();
  });

  it('does not count caller aborts or shed calls as the dependency failing', async () => {
    const refusing: Service = {
      call: (_req, ctx) =>
        Promise.reject(
          ctx.number % 2 === 0
            ? new MeshError('MESH_ABORTED', 'caller aborted')
            : new MeshError('MESH_RATE_LIMITED', 'shed'),
        ),
    };
    const layer = breakerFor(policyFor({ breaker }));
    const service = layer.wrap(refusing);
    for (let i = 0; i < 10; i++) {
      const code = await callStatus(service, attemptFor({ service: 'payments', number: i }));
      assert.ok(code === 'MESH_ABORTED' || code === 'MESH_RATE_LIMITED');
    }
    const state = layer.state?.() as { state: string; failures: number };
    assert.equal(state.state, 'closed');
    assert.equal(state.failures, 0);
    await layer.close?.();
  });

  it('keeps the breaker open when an aborted probe tells nothing', async () => {
    status = 500;
    const aborting: Service = {
      call: (req, ctx) =>
        transport.call(req, ctx).catch((cause: unknown) => {
          throw new MeshError('MESH_ABORTED', 'caller aborted', { cause });
        }),
    };
    const layer = breakerFor(policyFor({ breaker }));
    const service = layer.wrap(aborting);
    for (let i = 0; i < 4; i++) await callStatus(service);
    await sleep(breaker.openFor + 30);
    assert.equal(stateOf<{ state: string }>(layer).state, 'half-open');
    delayMs = 200;
    const controller = new AbortController();
    const pending = callStatus(service, ctxFor(undefined, controller.signal));
    await sleep(20);
    controller.abort();
    assert.equal(await pending, 'MESH_ABORTED');
    delayMs = 0;
    assert.equal(stateOf<{ state: string }>(layer).state, 'open');
    assert.equal(await callStatus(service), 'MESH_CIRCUIT_OPEN');
    await layer.close?.();
  });

  it('leaks no timers or listeners: 200 breakers created and closed', async () => {
    const live = new Set<number>();
    const hook = createHook({
      init(id, type) {
        if (type === 'Timeout') live.add(id);
      },
      destroy(id) {
        live.delete(id);
      },
    }).enable();
    try {
      const idle: Service = { call: () => Promise.reject(new Error('unused')) };
      const layers = [];
      for (let i = 0; i < 200; i++) {
        const layer = breakerFor(policyFor({ name: `svc-${i}`, breaker }));
        layers.push({ layer, service: layer.wrap(idle) });
      }
      const breakerTimers = new Set(live);
      assert.ok(breakerTimers.size >= 200, `each breaker holds a bucket timer (saw ${breakerTimers.size})`);
      for (const { layer } of layers) await layer.close?.();
      await sleep(10);
      const left = [...breakerTimers].filter((id) => live.has(id));
      assert.equal(left.length, 0, 'every opossum timer is cleared by close()');
      // close() shut opossum down: a later call is refused as closed, not sent.
      assert.equal(await callStatus(layers[0]!.service), 'MESH_CLOSED');
    } finally {
      hook.disable();
    }
  });
});
