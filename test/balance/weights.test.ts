import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BalancerPolicy } from '../../src/config/policy.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { MeshEventEmitter } from '../../src/core/events.ts';
import { EndpointSet } from '../../src/balance/endpoint-set.ts';
import { address, context, idleDispatcher, request, testPolicy } from './harness.ts';

const POLICIES: BalancerPolicy[] = [
  { policy: 'round-robin' },
  { policy: 'random' },
  { policy: 'p2c-least-request' },
  { policy: 'p2c-ewma', decay: 10_000 },
  { policy: 'ring-hash', hashOn: undefined, minRingSize: 1024 },
];

function pickSet(balancer: BalancerPolicy, weights: readonly number[]): EndpointSet {
  const clock = new ManualClock();
  const set = new EndpointSet({ service: 'api', policy: testPolicy(balancer), clock, events: new MeshEventEmitter(), connect: idleDispatcher });
  set.update(weights.map((w, i) => address(`10.0.0.${i + 1}:80`, w)));
  return set;
}

for (const balancer of POLICIES) {
  test(`${balancer.policy} honours endpoint weights (3:1:1 at equal load)`, async () => {
    const set = pickSet(balancer, [3, 1, 1]);
    const counts = new Map<string, number>();
    const calls = 20_000;
    for (let i = 0; i < calls; i++) {
      // Ring-hash spreads distinct keys by weight; the others ignore the key.
      const endpoint = set.pick(request({ hashKey: `user-${i}` }), context())!;
      counts.set(endpoint.address.id, (counts.get(endpoint.address.id) ?? 0) + 1);
    }
    const heavy = (counts.get('10.0.0.1:80') ?? 0) / calls;
    const light = (counts.get('10.0.0.2:80') ?? 0) / calls;
    assert.ok(Math.abs(heavy - 0.6) < 0.04, `weight-3 endpoint got ${heavy}`);
    assert.ok(Math.abs(light - 0.2) < 0.04, `weight-1 endpoint got ${light}`);
    await set.close();
  });

  test(`${balancer.policy} honours ctx.avoid while another endpoint exists`, async () => {
    const set = pickSet(balancer, [1, 1, 1]);
    for (let i = 0; i < 300; i++) {
      const first = set.pick(request({ hashKey: `k${i}` }), context())!;
      const second = set.pick(request({ hashKey: `k${i}` }), context(undefined, { avoid: first }))!;
      assert.notEqual(second, first);
    }
    // With a single endpoint, avoiding it still beats failing the call.
    set.update([address('10.0.0.1:80')]);
    const only = set.pick(request(), context())!;
    assert.equal(set.pick(request(), context(undefined, { avoid: only })), only);
    await set.close();
  });
}
