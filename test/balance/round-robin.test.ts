import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Backend } from '../support/http-backend.ts';
import { address, closeAll, createHarness, drive, startBackends, testPolicy } from './harness.ts';

let backends: Backend[];
before(async () => {
  backends = await startBackends(3);
});
after(() => closeAll(backends));

test('round-robin sends exactly one call to each endpoint per cycle, in a fixed rotation', async () => {
  const harness = createHarness(testPolicy({ policy: 'round-robin' }), undefined, backends.map((b) => address(b.address)));
  try {
    const order: string[] = [];
    for (let i = 0; i < 30; i++) order.push((await harness.call()).endpoint);
    for (const backend of backends) assert.equal(order.filter((id) => id === backend.address).length, 10);
    // The same rotation repeats: call i and call i+3 always go to the same endpoint.
    for (let i = 3; i < order.length; i++) assert.equal(order[i], order[i - 3]);
    assert.deepEqual(backends.map((b) => b.received.length), [10, 10, 10]);
  } finally {
    await harness.close();
  }
});

test('weighted round-robin gives each endpoint exactly its weight per cycle, interleaved', async () => {
  const weights = [5, 2, 1];
  const harness = createHarness(testPolicy({ policy: 'round-robin' }), undefined, backends.map((b, i) => address(b.address, weights[i])));
  try {
    const counts = await drive(harness, 80, 4);
    assert.deepEqual(backends.map((b) => counts.get(b.address)), [50, 20, 10]);
    // Smooth: the weight-5 endpoint never takes more than 3 calls in a row (5,2,1 interleaves as a a b a c a b a).
    const order: string[] = [];
    for (let i = 0; i < 16; i++) order.push((await harness.call()).endpoint);
    let run = 0;
    let longest = 0;
    for (const id of order) {
      run = id === backends[0]!.address ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    assert.ok(longest <= 3, `longest run on the heavy endpoint was ${longest}`);
  } finally {
    await harness.close();
  }
});
