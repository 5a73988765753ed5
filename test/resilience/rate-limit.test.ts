import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.ts';
import { MeshError } from '../../src/core/errors.ts';
import { MeshEventEmitter } from '../../src/core/events.ts';
import { TokenBucket } from '../../src/resilience/token-bucket.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';
import { callStatus, ctxFor, rateLimitFor, get, type PoolTransport, policyFor, poolTransport } from './layer-harness.ts';

describe('token bucket', () => {
  it('allows a burst of `capacity`, then refills at `rate` per second', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(clock, 10, 5);
    let taken = 0;
    while (bucket.tryTake()) taken++;
    assert.equal(taken, 5);
    assert.equal(bucket.msUntilToken(), 100);
    clock.advance(99);
    assert.equal(bucket.tryTake(), false);
    clock.advance(1);
    assert.equal(bucket.tryTake(), true);
    clock.advance(10_000);
    taken = 0;
    while (bucket.tryTake()) taken++;
    assert.equal(taken, 5, 'a long quiet spell never stores more than `capacity`');
  });

  it('sustains exactly `rate` over time', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(clock, 50, 1);
    let taken = 0;
    for (let ms = 0; ms < 2000; ms++) {
      if (bucket.tryTake()) taken++;
      clock.advance(1);
    }
    assert.equal(taken, 100, '50/s for 2 s: one token at start, then one every 20 ms');
  });
});

describe('rate limit layer (local)', () => {
  let backend: Backend;
  let transport: PoolTransport;
  before(async () => {
    backend = await startBackend();
    transport = poolTransport(backend.url);
  });
  after(async () => {
    await transport.close();
    await backend.close();
  });

  it('returns inner unchanged when off', () => {
    const layer = rateLimitFor(policyFor({ rateLimit: false }));
    assert.equal(layer.wrap(transport), transport);
  });

  it('refuses calls over the bucket at once, without sending them, and emits shed', async () => {
    const clock = new ManualClock();
    const events = new MeshEventEmitter();
    let shedEvents = 0;
    events.on('shed', (e) => {
      assert.equal(e.reason, 'rate-limited');
      shedEvents++;
    });
    const layer = rateLimitFor(policyFor({ rateLimit: { rps: 5, burst: 3, scope: 'local', redis: undefined } }), clock, events);
    const service = layer.wrap(transport);
    const before = backend.received.length;
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await callStatus(service, ctxFor(clock)));
    assert.deepEqual(results, [200, 200, 200, 'MESH_RATE_LIMITED', 'MESH_RATE_LIMITED', 'MESH_RATE_LIMITED']);
    assert.equal(backend.received.length - before, 3, 'a limited call never reaches the server');
    assert.equal(shedEvents, 3);
    const error = await service.call(get(), ctxFor(clock)).catch((e: unknown) => e);
    assert.ok(error instanceof MeshError);
    assert.match(error.message, /token frees up in about 200ms/);
    clock.advance(200);
    assert.equal(await callStatus(service, ctxFor(clock)), 200);
    assert.deepEqual(layer.state?.(), { scope: 'local', rps: 5, burst: 3, tokens: 0, admitted: 4, shed: 4 });
    await layer.close?.();
  });
});
