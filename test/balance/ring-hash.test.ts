import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BalancerPolicy } from '../../src/config/policy.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { MeshEventEmitter } from '../../src/core/events.ts';
import { EndpointSet } from '../../src/balance/endpoint-set.ts';
import { address, closeAll, context, createHarness, idleDispatcher, request, startBackends, testPolicy } from './harness.ts';

const RING: BalancerPolicy = { policy: 'ring-hash', hashOn: undefined, minRingSize: 1024 };
const KEYS = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);

function ringSet(count: number, balancer: BalancerPolicy = RING): EndpointSet {
  const set = new EndpointSet({ service: 'api', policy: testPolicy(balancer), clock: new ManualClock(), events: new MeshEventEmitter(), connect: idleDispatcher });
  set.update(Array.from({ length: count }, (_, i) => address(`10.0.1.${i + 1}:8080`)));
  return set;
}

function owners(set: EndpointSet): string[] {
  const ctx = context();
  return KEYS.map((hashKey) => set.pick(request({ hashKey }), ctx)!.address.id);
}

test('ring-hash is stable: the same key goes to the same endpoint, across rebuilt sets too', async () => {
  const a = ringSet(5);
  const b = ringSet(5);
  assert.deepEqual(owners(a), owners(a));
  assert.deepEqual(owners(a), owners(b));
  await Promise.all([a.close(), b.close()]);
});

for (const count of [3, 5, 10]) {
  test(`ring-hash moves at most 1/N + 5% of 10,000 keys when one of ${count} endpoints leaves`, async () => {
    const set = ringSet(count);
    const before = owners(set);
    const leaving = '10.0.1.2:8080';
    set.update(Array.from({ length: count }, (_, i) => address(`10.0.1.${i + 1}:8080`)).filter((a) => a.id !== leaving));
    const after = owners(set);
    let moved = 0;
    for (let i = 0; i < KEYS.length; i++) {
      if (before[i] === after[i]) continue;
      moved++;
      // Only the leaver's keys move.
      assert.equal(before[i], leaving);
    }
    assert.ok(moved / KEYS.length <= 1 / count + 0.05, `moved ${moved} of ${KEYS.length}`);
    assert.ok(moved > 0);
    await set.close();
  });
}

test('ring-hash reads the key from the header named in hashOn and spreads keyless calls at random', async () => {
  const set = ringSet(4, { policy: 'ring-hash', hashOn: 'header:x-user-id', minRingSize: 1024 });
  const ctx = context();
  const pick = (headers: Record<string, string>) => set.pick(request({ headers }), ctx)!.address.id;
  for (let i = 0; i < 50; i++) assert.equal(pick({ 'x-user-id': `u${i}` }), pick({ 'x-user-id': `u${i}` }));
  const keyless = new Set(Array.from({ length: 200 }, () => pick({})));
  assert.equal(keyless.size, 4);
  await set.close();
});

test('ring-hash over real backends: one user lands on one backend', async () => {
  const backends = await startBackends(3);
  const harness = createHarness(testPolicy(RING), undefined, backends.map((b) => address(b.address)));
  try {
    for (let i = 0; i < 12; i++) await harness.call(request({ hashKey: 'user-42' }));
    assert.deepEqual(backends.map((b) => b.received.length).sort(), [0, 0, 12]);
  } finally {
    await harness.close();
    await closeAll(backends);
  }
});
