/**
 * The peak-EWMA estimate's cold-start rules (src/balance/peak-ewma.ts), driven by a manual
 * clock through the endpoint set's own accounting: answers are started and finished as the
 * balancer layer does, and picks go through the real p2c-ewma picker.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/core/clock.ts';
import { MeshEventEmitter } from '../../src/core/events.ts';
import { EndpointSet } from '../../src/balance/endpoint-set.ts';
import type { LiveEndpoint } from '../../src/balance/live-endpoint.ts';
import { currentEstimate } from '../../src/balance/peak-ewma.ts';
import { address, context, idleDispatcher, request, testPolicy } from './harness.ts';

const DECAY = 10_000;

interface Fixture {
  set: EndpointSet;
  clock: ManualClock;
  endpoints: LiveEndpoint[];
  /** One attempt to `endpoint` that answers after `ms`. */
  answer(endpoint: LiveEndpoint, ms: number): void;
  pick(): LiveEndpoint;
}

function fixture(count: number): Fixture {
  const clock = new ManualClock(1_000);
  const policy = testPolicy({ policy: 'p2c-ewma', decay: DECAY }, false);
  const set = new EndpointSet({ service: 'api', policy, clock, events: new MeshEventEmitter(), connect: idleDispatcher });
  set.update(Array.from({ length: count }, (_, i) => address(`10.0.3.${i}:80`)));
  const ctx = context(clock);
  const pick = (): LiveEndpoint => set.pick(request(), ctx)!;
  const found = new Map<string, LiveEndpoint>();
  for (let n = 0; n < 200 && found.size < count; n++) {
    const endpoint = pick();
    found.set(endpoint.address.id, endpoint);
  }
  const endpoints = [...found.values()].sort((a, b) => a.address.id.localeCompare(b.address.id));
  assert.equal(endpoints.length, count);
  return {
    set,
    clock,
    endpoints,
    answer(endpoint, ms) {
      const sentAt = clock.now();
      set.started(endpoint);
      clock.advance(ms);
      set.finished(endpoint, sentAt, false);
    },
    pick,
  };
}

test('a first answer is not trusted alone: the estimate starts at the smaller of the first two', async () => {
  const f = fixture(2);
  const [cold, slow] = f.endpoints as [LiveEndpoint, LiveEndpoint];
  f.answer(cold, 15); // connection set-up, JIT warm-up
  assert.equal(cold.observed, false);
  f.answer(cold, 1);
  assert.equal(cold.ewmaMs, 1);
  // A genuinely slow endpoint is slow twice, and is estimated so from its second answer.
  f.answer(slow, 50);
  f.answer(slow, 50);
  assert.equal(slow.ewmaMs, 50);
  await f.set.close();
});

test('an endpoint with fewer than two answers is tried while idle and never piled onto', async () => {
  const f = fixture(2);
  const [known, fresh] = f.endpoints as [LiveEndpoint, LiveEndpoint];
  f.answer(known, 1);
  f.answer(known, 1);
  // Idle and without an estimate: it wins against any estimated endpoint.
  for (let i = 0; i < 20; i++) assert.equal(f.pick(), fresh);
  // With a call in flight it loses against any, however slow.
  f.answer(known, 500);
  f.set.started(fresh);
  for (let i = 0; i < 20; i++) assert.equal(f.pick(), known);
  await f.set.close();
});

test('one answer at most doubles the estimate; sustained slowness reaches its level within a few answers', async () => {
  const f = fixture(2);
  const [stalled, peer] = f.endpoints as [LiveEndpoint, LiveEndpoint];
  for (const endpoint of [stalled, peer]) {
    f.answer(endpoint, 2);
    f.answer(endpoint, 2);
  }
  // One answer 50x out of line (a stall of the caller's own event loop looks the same).
  f.answer(stalled, 100);
  assert.equal(stalled.ewmaMs, 4);
  const estimates: number[] = [];
  for (let i = 0; i < 6; i++) {
    f.answer(stalled, 100);
    estimates.push(stalled.ewmaMs);
  }
  assert.deepEqual(estimates.slice(0, 4), [8, 16, 32, 64]);
  assert.ok(estimates[4]! > 99 && estimates[4]! <= 100, `estimates ${estimates.join(', ')}`);
  // Avoided from the first slow answer on: twice the cost of an equal peer.
  for (let i = 0; i < 20; i++) assert.equal(f.pick(), peer);
  await f.set.close();
});

test('a young estimate remembers a tenth of its age; from 100 s of age on it keeps the configured decay', async () => {
  const f = fixture(2);
  const [young, old] = f.endpoints as [LiveEndpoint, LiveEndpoint];
  f.answer(old, 5);
  f.answer(old, 5);
  f.clock.advance(200_000);
  f.answer(old, 5);
  f.answer(young, 5);
  f.answer(young, 5);
  f.clock.advance(995);
  f.answer(young, 5); // 1 s after its first answer
  const age = young.ewmaAt - young.firstAnswerAt;
  assert.equal(age, 1_005);
  assert.ok(Math.abs(currentEstimate(young, young.ewmaAt + age / 10, DECAY) - 5 * Math.exp(-1)) < 1e-9);
  assert.ok(Math.abs(currentEstimate(old, old.ewmaAt + age / 10, DECAY) - 5 * Math.exp(-age / 10 / DECAY)) < 1e-9);
  await f.set.close();
});

test('an estimate does not decay while a call to its endpoint is in flight', async () => {
  const f = fixture(2);
  const [slow] = f.endpoints as [LiveEndpoint];
  f.answer(slow, 100);
  f.answer(slow, 100);
  f.set.started(slow);
  assert.equal(currentEstimate(slow, f.clock.now() + 5_000, DECAY), 100);
  f.set.finished(slow, f.clock.now(), false);
  assert.ok(currentEstimate(slow, f.clock.now() + 5_000, DECAY) < 100);
  await f.set.close();
});
