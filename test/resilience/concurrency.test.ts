import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManualClock } from '../../src/core/clock.ts';
import { MeshEventEmitter } from '../../src/core/events.ts';
import type { MeshResponse, Service } from '../../src/core/service.ts';
import type { ConcurrencyPolicy } from '../../src/config/policy.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';
import { callStatus, ctxFor, concurrencyFor, get, type PoolTransport, policyFor, poolTransport, stateOf } from './layer-harness.ts';

const fixed = (max: number, queue = 0, queueTimeout = 1000): ConcurrencyPolicy => ({ adaptive: false, max, queue, queueTimeout });

/** An inner service whose calls finish only when the test says so. */
function heldService(): Service & { release(): void; started: number } {
  const waiting: (() => void)[] = [];
  const held = {
    started: 0,
    call: () => {
      held.started++;
      return new Promise<MeshResponse>((resolve) => waiting.push(() => resolve({ statusCode: 200 } as MeshResponse)));
    },
    release: () => waiting.shift()?.(),
  };
  return held;
}

describe('concurrency limit (fixed) over a real backend', () => {
  let backend: Backend;
  let transport: PoolTransport;
  before(async () => {
    backend = await startBackend(async (req, res) => {
      await sleep(80);
      res.end(req.url);
    });
    transport = poolTransport(backend.url);
  });
  after(async () => {
    await transport.close();
    await backend.close();
  });

  it('returns inner unchanged when off', () => {
    assert.equal(concurrencyFor(policyFor({ concurrency: false })).wrap(transport), transport);
  });

  it('refuses calls beyond max without sending them, and emits shed', async () => {
    const events = new MeshEventEmitter();
    let shed = 0;
    events.on('shed', (e) => {
      if (e.reason === 'concurrency-limit') shed++;
    });
    const layer = concurrencyFor(policyFor({ concurrency: fixed(2) }), undefined, events);
    const service = layer.wrap(transport);
    const before = backend.received.length;
    const results = await Promise.all([1, 2, 3, 4].map(() => callStatus(service)));
    assert.deepEqual(results.sort(), [200, 200, 'MESH_CONCURRENCY_LIMIT', 'MESH_CONCURRENCY_LIMIT']);
    assert.equal(backend.received.length - before, 2);
    assert.equal(shed, 2);
    assert.equal(stateOf<{ inFlight: number }>(layer).inFlight, 0, 'every slot released');
  });

  it('queues FIFO up to `queue` and serves waiters as slots free up', async () => {
    const layer = concurrencyFor(policyFor({ concurrency: fixed(1, 2) }));
    const service = layer.wrap(transport);
    const before = backend.received.length;
    const order = ['/a', '/b', '/c', '/d'];
    const results = await Promise.all(
      order.map((path) =>
        service.call(get(path), ctxFor()).then(
          async (res) => res.body.text(),
          (error: { code: string }) => error.code,
        ),
      ),
    );
    assert.deepEqual(results, ['/a', '/b', '/c', 'MESH_CONCURRENCY_LIMIT']);
    assert.deepEqual(
      backend.received.slice(before).map((r) => r.url),
      ['/a', '/b', '/c'],
      'waiters are served in arrival order',
    );
  });

  it('gives up on a queued call after queueTimeout', async () => {
    const layer = concurrencyFor(policyFor({ concurrency: fixed(1, 1, 20) }));
    const service = layer.wrap(transport);
    const started = performance.now();
    const [first, second] = await Promise.all([callStatus(service), callStatus(service)]);
    assert.equal(first, 200);
    assert.equal(second, 'MESH_CONCURRENCY_LIMIT');
    assert.ok(performance.now() - started >= 20);
    assert.equal(stateOf<{ queued: number }>(layer).queued, 0);
  });
});

describe('concurrency limit (fixed) queue logic', () => {
  it('a queued call honours its caller abort and its deadline', async () => {
    const clock = new ManualClock();
    const inner = heldService();
    const layer = concurrencyFor(policyFor({ concurrency: fixed(1, 4, 1000) }), clock);
    const service = layer.wrap(inner);
    const first = service.call(get(), ctxFor(clock));
    const controller = new AbortController();
    const aborted = service.call(get(), ctxFor(clock, controller.signal)).catch((e: { code: string }) => e.code);
    const late = service.call(get(), ctxFor(clock, undefined, clock.now() + 50)).catch((e: { code: string }) => e.code);
    const patient = service.call(get(), ctxFor(clock));
    assert.equal(stateOf<{ queued: number }>(layer).queued, 3);
    controller.abort();
    assert.equal(await aborted, 'MESH_ABORTED');
    clock.advance(50);
    assert.equal(await late, 'MESH_TIMEOUT');
    assert.equal(inner.started, 1, 'nothing queued was sent');
    inner.release();
    await first;
    await sleep(0);
    assert.equal(inner.started, 2, 'the freed slot went to the one still waiting');
    inner.release();
    assert.equal((await patient).statusCode, 200);
    assert.deepEqual(layer.state?.(), { adaptive: false, limit: 1, inFlight: 0, queued: 0, shed: 0 });
  });

  it('close() rejects queued calls', async () => {
    const inner = heldService();
    const layer = concurrencyFor(policyFor({ concurrency: fixed(1, 1) }));
    const service = layer.wrap(inner);
    const first = service.call(get(), ctxFor());
    const queued = service.call(get(), ctxFor()).catch((e: { code: string }) => e.code);
    await layer.close?.();
    assert.equal(await queued, 'MESH_CLOSED');
    inner.release();
    await first;
  });
});

describe('concurrency limit (adaptive layer)', () => {
  it('refuses beyond the current limit and releases slots', async () => {
    const inner = heldService();
    const layer = concurrencyFor(policyFor({ concurrency: { adaptive: true, initial: 3, min: 1, max: 100 } }), new ManualClock());
    const service = layer.wrap(inner);
    const calls = [1, 2, 3].map(() => service.call(get(), ctxFor()));
    assert.equal(await callStatus(service), 'MESH_CONCURRENCY_LIMIT');
    for (let i = 0; i < 3; i++) inner.release();
    await Promise.all(calls);
    const state = layer.state?.() as { limit: number; inFlight: number; shed: number };
    assert.equal(state.inFlight, 0);
    assert.equal(state.limit, 3);
    assert.equal(state.shed, 1);
  });
});
