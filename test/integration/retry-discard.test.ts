/**
 * Regression test for "a retry waits for a discarded body" (issue 9, defect 5): endpoints
 * `[slow503, ok]`, where slow503's head arrives at once and its body trickles for seconds.
 * A retry must go to the healthy endpoint at once: the body it replaces is destroyed, never
 * awaited, so no call spends its deadline on a response it has thrown away.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMesh, type Mesh } from '../../src/index.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';

describe('a retry after a 503 whose body trickles (issue 9, defect 5)', () => {
  let slow503: Backend;
  let ok: Backend;
  let mesh: Mesh;

  before(async () => {
    slow503 = await startBackend((_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain' });
      let sent = 0;
      const drip = setInterval(() => {
        res.write('x'.repeat(16));
        if (++sent === 300) {
          clearInterval(drip);
          res.end();
        }
      }, 10);
      res.on('close', () => clearInterval(drip));
    });
    ok = await startBackend();
    mesh = await createMesh({
      service: 'caller',
      config: { services: { api: { endpoints: [slow503.address, ok.address], balancer: 'round-robin', timeout: '2s', retry: { attempts: 2 } } } },
    });
  });

  after(async () => {
    await mesh.close();
    await Promise.all([slow503.close(), ok.close()]);
  });

  it('answers every call from the healthy endpoint well before the deadline', async () => {
    for (let i = 0; i < 6; i++) {
      const started = performance.now();
      const res = await mesh.client('api').request({ path: `/call-${i}` });
      const elapsed = performance.now() - started;
      assert.equal(res.statusCode, 200);
      await res.body.dump();
      assert.ok(elapsed < 500, `call ${i} took ${elapsed.toFixed(0)} ms`);
    }
    assert.ok(slow503.received.length >= 2, 'calls did land on the slow 503 first');
    // The discarded bodies are destroyed: the server sees those responses cut off.
    const deadline = performance.now() + 1_000;
    while (slow503.aborted < slow503.received.length && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(slow503.aborted, slow503.received.length);
  });
});
