import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { address, closeAll, createHarness, drive, request, startBackends, testPolicy } from './harness.ts';

test('after warm-up p2c-ewma sends under 5% of calls to an endpoint 20x slower than the rest', async () => {
  const backends = await startBackends(5, (i) => async (_req, res) => {
    await sleep(i === 0 ? 100 : 5);
    res.end('ok');
  });
  const harness = createHarness(testPolicy({ policy: 'p2c-ewma', decay: 10_000 }), undefined, backends.map((b) => address(b.address)));
  try {
    await drive(harness, 40, 8); // warm-up: every endpoint answers at least once
    const counts = await drive(harness, 400, 8);
    const slow = counts.get(backends[0]!.address) ?? 0;
    assert.ok(slow < 20, `slow endpoint took ${slow} of 400 calls`);
    // The fast ones share the rest.
    for (const backend of backends.slice(1)) assert.ok((counts.get(backend.address) ?? 0) > 40);
  } finally {
    await harness.close();
    await closeAll(backends);
  }
});

for (const policy of ['p2c-least-request', 'p2c-ewma'] as const) {
  test(`${policy} sends new calls to idle endpoints, not to one with calls piled up`, async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const backends = await startBackends(3, (i) =>
      i === 0
        ? async (req, res) => {
            if (req.url === '/hold') await held;
            res.end('ok');
          }
        : undefined,
    );
    const balancer = policy === 'p2c-ewma' ? { policy, decay: 10_000 } : { policy };
    const harness = createHarness(testPolicy(balancer), undefined, [address(backends[0]!.address)]);
    try {
      // Four calls pile up on the first endpoint; then the others join (same id keeps its load).
      const pending = Array.from({ length: 4 }, () => harness.call(request({ path: '/hold' })));
      while (backends[0]!.received.length < 4) await sleep(5);
      harness.set.update(backends.map((b) => address(b.address)));
      const counts = await drive(harness, 60, 1);
      assert.equal(counts.get(backends[0]!.address) ?? 0, 0);
      assert.ok((counts.get(backends[1]!.address) ?? 0) > 10);
      assert.ok((counts.get(backends[2]!.address) ?? 0) > 10);
      release();
      await Promise.all(pending);
    } finally {
      release();
      await harness.close();
      await closeAll(backends);
    }
  });
}
