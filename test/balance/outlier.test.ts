import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OutlierPolicy } from '../../src/config/policy.ts';
import type { AttemptShape } from '../support/attempt.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { MeshEventEmitter, type MeshEvents } from '../../src/core/events.ts';
import { EndpointSet } from '../../src/balance/endpoint-set.ts';
import type { LiveEndpoint } from '../../src/balance/live-endpoint.ts';
import { address, closeAll, context, createHarness, DEFAULT_OUTLIER, idleDispatcher, request, startBackends, testPolicy } from './harness.ts';

interface Fixture {
  set: EndpointSet;
  clock: ManualClock;
  events: { eject: MeshEvents['eject'][]; readmit: MeshEvents['readmit'][] };
  endpoint(i: number): LiveEndpoint;
  fail(i: number, times?: number): void;
  picked(calls?: number): Set<string>;
}

function fixture(count: number, outlier: Partial<OutlierPolicy> = {}): Fixture {
  const clock = new ManualClock(1_000);
  const emitter = new MeshEventEmitter();
  const events: Fixture['events'] = { eject: [], readmit: [] };
  emitter.on('eject', (e) => events.eject.push(e));
  emitter.on('readmit', (e) => events.readmit.push(e));
  const policy = testPolicy({ policy: 'round-robin' }, { ...DEFAULT_OUTLIER, ...outlier });
  const set = new EndpointSet({ service: 'api', policy, clock, events: emitter, connect: idleDispatcher });
  const addresses = Array.from({ length: count }, (_, i) => address(`10.0.2.${i}:80`));
  set.update(addresses);
  const ctx = context(clock);
  const endpointOf = (i: number): LiveEndpoint => {
    // Round-robin visits every healthy endpoint within `count` picks; ejected ones are found in state.
    for (let n = 0; n < count * 2; n++) {
      const e = set.pick(request(), ctx)!;
      if (e.address.id === addresses[i]!.id) return e;
    }
    throw new Error(`endpoint ${i} is not pickable`);
  };
  const live = addresses.map((_, i) => endpointOf(i));
  return {
    set,
    clock,
    events,
    endpoint: (i) => live[i]!,
    fail(i, times = 1) {
      for (let n = 0; n < times; n++) {
        set.started(live[i]!);
        set.finished(live[i]!, clock.now(), true);
      }
    },
    picked(calls = count * 4) {
      const seen = new Set<string>();
      for (let n = 0; n < calls; n++) seen.add(set.pick(request(), ctx)!.address.id);
      return seen;
    },
  };
}

test('an endpoint is ejected after consecutiveFailures failures in a row, and a success resets the count', async () => {
  const f = fixture(3);
  f.fail(0, 4);
  succeed(f, 0);
  f.fail(0, 4);
  assert.equal(f.endpoint(0).ejected, false);
  f.fail(0);
  assert.equal(f.endpoint(0).ejected, true);
  assert.equal(f.events.eject.length, 1);
  assert.deepEqual(f.events.eject[0], { service: 'api', endpoint: '10.0.2.0:80', until: 31_000, reason: '5 consecutive failures' });
  assert.deepEqual(f.picked(), new Set(['10.0.2.1:80', '10.0.2.2:80']));
  const state = f.set.state() as { id: string; healthy: boolean; ejectedUntil: number | null; ejectReason: string | null; failures: number }[];
  assert.deepEqual(
    { healthy: state[0]!.healthy, until: state[0]!.ejectedUntil, reason: state[0]!.ejectReason, failures: state[0]!.failures },
    { healthy: false, until: 30_000, reason: '5 consecutive failures', failures: 9 },
  );
  await f.set.close();
});

function succeed(f: Fixture, i: number): void {
  f.set.started(f.endpoint(i));
  f.set.finished(f.endpoint(i), f.clock.now(), false);
}

test('an ejected endpoint is re-admitted when its time is up, and each repeat ejects it for twice as long, capped', async () => {
  // Trial calls off: this is about the ejection time alone (outlier-trial.test.ts has trials).
  const f = fixture(3, { ejectFor: 10_000, maxEjectFor: 35_000, probeInterval: false });
  const expected = [10_000, 20_000, 35_000, 35_000];
  for (const duration of expected) {
    f.fail(0, 5);
    assert.equal(f.endpoint(0).ejectedUntil - f.clock.now(), duration);
    f.clock.advance(duration - 1);
    assert.equal(f.picked().has('10.0.2.0:80'), false, 'still ejected just before its time');
    f.clock.advance(1);
    assert.equal(f.endpoint(0).ejected, false);
    assert.equal(f.picked().has('10.0.2.0:80'), true, 're-admitted into the picker');
  }
  assert.equal(f.events.eject.length, 4);
  assert.equal(f.events.readmit.length, 4);
  await f.set.close();
});

test('a long healthy stretch after re-admission forgives earlier ejections', async () => {
  const f = fixture(3, { ejectFor: 10_000, maxEjectFor: 35_000 });
  f.fail(0, 5);
  f.clock.advance(10_000);
  f.fail(0, 5);
  assert.equal(f.endpoint(0).ejectedUntil - f.clock.now(), 20_000);
  f.clock.advance(20_000 + 36_000);
  f.fail(0, 5);
  assert.equal(f.endpoint(0).ejectedUntil - f.clock.now(), 10_000);
  await f.set.close();
});

test('never more than maxEjectedPercent of endpoints are ejected at once', async () => {
  const f = fixture(4, { maxEjectedPercent: 50, panicThreshold: 0 });
  for (let i = 0; i < 4; i++) f.fail(i, 10);
  assert.equal([0, 1, 2, 3].filter((i) => f.endpoint(i).ejected).length, 2);
  assert.equal(f.picked().size, 2);
  await f.set.close();

  // One endpoint of one is 100%: over a 50% cap, so it is never ejected.
  const single = fixture(1, { maxEjectedPercent: 50 });
  single.fail(0, 20);
  assert.equal(single.endpoint(0).ejected, false);
  await single.set.close();
});

test('panic mode: below panicThreshold healthy, picks spread over every endpoint, ejected ones included', async () => {
  const f = fixture(4, { maxEjectedPercent: 100, panicThreshold: 50 });
  f.fail(0, 5);
  assert.equal(f.set.panic, false);
  assert.equal(f.picked().size, 3);
  f.fail(1, 5);
  assert.equal(f.set.panic, false, '50% healthy is not below the threshold');
  f.fail(2, 5);
  assert.equal(f.set.panic, true);
  assert.equal(f.picked().size, 4);
  f.clock.advance(30_000);
  assert.equal(f.set.panic, false, 'panic ends when the ejected come back');
  await f.set.close();
});

test('a backend answering 503 is ejected through the layer and the shared classifier; 4xx and cancelled calls are not held against it', async () => {
  const backends = await startBackends(2, (i) => (req, res) => {
    res.statusCode = i === 0 ? 503 : req.url === '/missing' ? 404 : 200;
    res.end();
  });
  const harness = createHarness(testPolicy({ policy: 'round-robin' }), undefined, backends.map((b) => address(b.address)));
  try {
    for (let i = 0; i < 10; i++) await harness.call();
    assert.equal(backends[0]!.received.length, 5);
    const state = harness.set.state() as { id: string; healthy: boolean; failures: number }[];
    assert.deepEqual(state.map((s) => [s.id, s.healthy, s.failures]), [
      [backends[0]!.address, false, 5],
      [backends[1]!.address, true, 0],
    ]);
    for (let i = 0; i < 6; i++) assert.equal((await harness.call()).endpoint, backends[1]!.address);
    for (let i = 0; i < 6; i++) assert.equal((await harness.call(request({ path: '/missing' }))).statusCode, 404);
    const second = (harness.set.state() as { healthy: boolean; failures: number }[])[1]!;
    assert.deepEqual([second.healthy, second.failures], [true, 0]);

    // A cancelled attempt says nothing about the endpoint.
    const controller = new AbortController();
    const ctx = context(undefined, { signal: controller.signal });
    controller.abort();
    await assert.rejects(harness.service.call(request(), ctx));
    assert.equal((harness.set.state() as { failures: number }[])[1]!.failures, 0);
  } finally {
    await harness.close();
    await closeAll(backends);
  }
});

// Trial calls: an ejected endpoint is tried early and re-admitted by a success (issue 9,
// defect 11). `pick` here is one attempt's pick, with the kind of call and attempt given.
function pickFor(f: Fixture, overrides: Parameters<typeof request>[0] = {}, attempt: AttemptShape = {}): LiveEndpoint {
  return f.set.pick(request(overrides), context(f.clock, attempt))!;
}

function finish(f: Fixture, endpoint: LiveEndpoint, failed: boolean): void {
  f.set.finished(endpoint, f.clock.now(), failed);
}

test('an ejected endpoint takes one trial call per probeInterval, only an idempotent replayable first try, and a success re-admits it at once', async () => {
  const f = fixture(3, { probeInterval: 2_000 });
  const ejected = f.endpoint(0);
  f.fail(0, 5);
  assert.equal(ejected.ejected, true);
  f.clock.advance(1_999);
  assert.equal(f.picked().has(ejected.address.id), false, 'no trial before probeInterval');
  f.clock.advance(1);
  // Due now, but a call that could not be sent again elsewhere does not carry a trial.
  assert.notEqual(pickFor(f, { method: 'POST', idempotent: false }), ejected);
  assert.notEqual(pickFor(f, { replayable: false }), ejected);
  assert.notEqual(pickFor(f, {}, { number: 2 }), ejected);
  assert.notEqual(pickFor(f, {}, { hedge: true }), ejected);
  const trial = pickFor(f);
  assert.equal(trial, ejected);
  assert.equal(f.picked().has(ejected.address.id), false, 'one trial per interval');
  f.set.started(trial);
  finish(f, trial, false);
  assert.equal(ejected.ejected, false);
  assert.deepEqual(f.events.readmit, [{ service: 'api', endpoint: ejected.address.id }]);
  assert.equal(f.picked().has(ejected.address.id), true, 'back in the picker');
  await f.set.close();
});

test('a failed trial leaves the endpoint ejected until the next one, and no trial is offered while a call to it is in flight', async () => {
  const f = fixture(3, { probeInterval: 2_000 });
  const ejected = f.endpoint(0);
  f.fail(0, 5);
  f.clock.advance(2_000);
  const first = pickFor(f);
  assert.equal(first, ejected);
  f.set.started(first);
  finish(f, first, true);
  assert.equal(ejected.ejected, true);
  assert.equal(f.picked().has(ejected.address.id), false);
  f.clock.advance(2_000);
  const second = pickFor(f);
  assert.equal(second, ejected);
  f.set.started(second); // still in flight when the next trial would be due
  f.clock.advance(2_000);
  assert.equal(f.picked().has(ejected.address.id), false, 'one trial at a time');
  finish(f, second, true);
  f.clock.advance(2_000);
  assert.equal(pickFor(f), ejected);
  assert.equal(f.events.readmit.length, 0);
  await f.set.close();
});

test('the trial interval doubles with each repeated ejection, trials stop at probeInterval false, and their timers never keep the process alive', async () => {
  const f = fixture(3, { ejectFor: 10_000, maxEjectFor: 100_000, probeInterval: 2_000 });
  const ejected = f.endpoint(0);
  f.fail(0, 5);
  assert.equal(f.clock.keepingAlive, 0, 'ejection and trial timers are background timers');
  f.clock.advance(10_000); // no call came for the trial; the ejection ends on time
  assert.equal(ejected.ejected, false);
  f.fail(0, 5); // ejected again: 20 s, trials every 4 s
  f.clock.advance(3_999);
  assert.notEqual(pickFor(f), ejected);
  f.clock.advance(1);
  assert.equal(pickFor(f), ejected);
  await f.set.close();

  const off = fixture(3, { probeInterval: false });
  off.fail(0, 5);
  off.clock.advance(29_999);
  assert.equal(off.picked(60).has(off.endpoint(0).address.id), false);
  await off.set.close();
});
