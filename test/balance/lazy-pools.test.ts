/**
 * An endpoint costs a pool only once an attempt goes to it: discovery (or a config) may list
 * many endpoints a process never calls. Closing an endpoint that never had a pool costs
 * nothing; an attempt that still reaches it after it left fails as closed, never sent. A
 * discovery answer past MAX_ENDPOINTS_PER_SERVICE is capped and reported.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Dispatcher } from 'undici';
import { EndpointSet } from '../../src/balance/endpoint-set.ts';
import { MAX_ENDPOINTS_PER_SERVICE } from '../../src/config/limits.ts';
import { ManualClock } from '../../src/core/clock.ts';
import type { EndpointAddress } from '../../src/core/endpoint.ts';
import { MeshEventEmitter, type MeshEvents } from '../../src/core/events.ts';
import { TransportError } from '../../src/core/errors.ts';
import { httpTransport } from '../../src/transport/http/transport.ts';
import { httpConnector } from '../../src/transport/http/pool.ts';
import { address, closeAll, context, createHarness, idleDispatcher, request, startBackends, testPolicy } from './harness.ts';

const ROUND_ROBIN = testPolicy({ policy: 'round-robin' });

/** An endpoint set whose Connector counts the pools it makes. */
function countingSet(events = new MeshEventEmitter()): { set: EndpointSet; made: Dispatcher[] } {
  const made: Dispatcher[] = [];
  const connect = (): Dispatcher => {
    const pool = idleDispatcher();
    made.push(pool);
    return pool;
  };
  return { set: new EndpointSet({ service: 'api', policy: ROUND_ROBIN, clock: new ManualClock(), events, connect }), made };
}

function addresses(count: number): EndpointAddress[] {
  return Array.from({ length: count }, (_, i) => address(`10.0.${i >> 8}.${i & 255}:80`));
}

test('an endpoint gets its pool from its first attempt, not from discovery', async () => {
  const backends = await startBackends(3);
  const harness = createHarness(ROUND_ROBIN, undefined, backends.map((b) => address(b.address)));
  try {
    assert.equal(harness.set.size, 3);
    assert.equal(harness.set.pools, 0);
    await harness.call();
    assert.equal(harness.set.pools, 1);
    for (let i = 0; i < 5; i++) assert.equal((await harness.call()).statusCode, 200);
    assert.equal(harness.set.pools, 3);
  } finally {
    await harness.close();
    await closeAll(backends);
  }
});

test('endpoints that leave without ever taking an attempt make and close no pool', async () => {
  const { set, made } = countingSet();
  set.update(addresses(500));
  set.update(addresses(10));
  await set.close();
  assert.equal(made.length, 0);
});

test('a pool made for an attempt is closed when its endpoint leaves', async () => {
  const { set, made } = countingSet();
  set.update(addresses(2));
  const endpoint = set.pick(request(), context())!;
  assert.ok(endpoint.connection !== undefined);
  set.update([]);
  assert.equal(made.length, 1);
  assert.equal((made[0] as Dispatcher & { closed: boolean }).closed, true);
  await set.close();
});

test('an attempt reaching an endpoint that left before it had a pool fails as closed, never sent', async () => {
  const backends = await startBackends(1);
  const events = new MeshEventEmitter();
  const set = new EndpointSet({
    service: 'api',
    policy: ROUND_ROBIN,
    clock: new ManualClock(),
    events,
    connect: httpConnector(ROUND_ROBIN),
  });
  try {
    set.update([address(backends[0]!.address)]);
    const ctx = context();
    ctx.endpoint = set.pick(request(), ctx);
    set.update([]);
    await assert.rejects(httpTransport.call(request(), ctx), (error: unknown) => {
      assert.ok(error instanceof TransportError);
      assert.equal(error.kind, 'closed');
      return true;
    });
    assert.equal(backends[0]!.received.length, 0);
  } finally {
    await set.close();
    await closeAll(backends);
  }
});

test('a discovery answer past MAX_ENDPOINTS_PER_SERVICE is capped, in discovery order, and reported', async () => {
  const events = new MeshEventEmitter();
  const reported: MeshEvents['control-error'][] = [];
  events.on('control-error', (event) => reported.push(event));
  const { set } = countingSet(events);
  const answer = addresses(MAX_ENDPOINTS_PER_SERVICE + 5);
  set.update(answer);
  assert.equal(set.size, MAX_ENDPOINTS_PER_SERVICE);
  assert.equal(set.overLimit, 5);
  const ids = (set.state() as { id: string }[]).map((e) => e.id);
  assert.deepEqual(ids, answer.slice(0, MAX_ENDPOINTS_PER_SERVICE).map((a) => a.id));
  assert.equal(reported.length, 1);
  assert.equal(reported[0]!.source, 'discovery:api');
  assert.match(reported[0]!.error.message, new RegExp(`the limit is ${MAX_ENDPOINTS_PER_SERVICE} endpoints per service, so 5 are left out`));
  set.update(answer); // the same answer again is not news
  assert.equal(reported.length, 1);
  set.update(answer.slice(0, 10));
  assert.equal(set.overLimit, 0);
  assert.equal(set.size, 10);
  await set.close();
});
