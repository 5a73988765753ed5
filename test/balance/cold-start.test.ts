/**
 * Regression for issue 9, defect 13: right after createMesh, p2c-ewma gave one of three
 * equal backends exactly one of 300 sequential calls in every run (1/192/107, 195/1/104…):
 * the first answer of a fresh process (connection set-up, JIT warm-up) became that
 * endpoint's estimate and the 10 s decay took tens of seconds to forgive it.
 *
 * NOTE: this file holds one test so that it runs first in its own process: the cold start
 * is the point. node:test runs each test file in a process of its own.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMesh } from '../../src/index.ts';
import { startBackend } from '../support/http-backend.ts';

/**
 * NOTE: the defect gave a backend exactly 1 call; a fair share is 100. The bound is 15, not 50:
 * on a loaded machine (CI runs two test files at once, one of them Chromium) a single
 * scheduling stall on one backend's answer is a real latency peak, and peak EWMA rightly
 * steers from it for the rest of this 1.5 s test: a run there gave 130/36/134.
 */
test('p2c-ewma starves a replica after a cold start: each of three equal backends gets at least 15 of 300 sequential calls', async (t) => {
  const backends = await Promise.all([startBackend(), startBackend(), startBackend()]);
  const mesh = await createMesh({ service: 'checkout', config: { services: { api: { endpoints: backends.map((b) => b.address) } } } });
  try {
    for (let i = 0; i < 300; i++) {
      const res = await mesh.client('api').request({ method: 'GET', path: '/' });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
    }
    const counts = backends.map((b) => b.received.length);
    t.diagnostic(`calls per backend: ${counts.join('/')}`);
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      300,
    );
    for (const count of counts) assert.ok(count >= 15, `calls per backend: ${counts.join('/')}`);
  } finally {
    await mesh.close();
    await Promise.all(backends.map((b) => b.close()));
  }
});
