/**
 * Regression tests for "a caller's abort is counted against the service" and "with hedging
 * and `timeout: false`, the caller's abort is ignored once the head has arrived" (issue 9,
 * defects 1 and 6): a caller's abort is MESH_ABORTED before dispatch, in flight and while the
 * body is read, under every combination of policies, takes effect within milliseconds, and is
 * never a failure for the breaker, outlier detection, the load metric or the retry budget.
 * Errors while the caller reads a body are MeshErrors with their cause.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createMesh, isMeshError, type Mesh } from '../../src/index.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';

const SLOW_MS = 2_000;

/** How a call ended, and how long after the abort it did. */
async function settleAfterAbort(call: (signal: AbortSignal) => Promise<unknown>, abortAfterMs: number): Promise<{ code: string; lateMs: number }> {
  const controller = new AbortController();
  const pending = call(controller.signal);
  await new Promise((resolve) => setTimeout(resolve, abortAfterMs));
  const abortedAt = performance.now();
  controller.abort();
  try {
    await pending;
    return { code: 'settled normally', lateMs: performance.now() - abortedAt };
  } catch (error) {
    return { code: isMeshError(error) ? error.code : `raw ${String(error)}`, lateMs: performance.now() - abortedAt };
  }
}

/** Answers after SLOW_MS: head and body. */
function slowHead(_req: unknown, res: ServerResponse): void {
  const timer = setTimeout(() => res.end('late'), SLOW_MS);
  res.on('close', () => clearTimeout(timer));
}

/** Sends its head and a first chunk at once, then the rest of the body after SLOW_MS. */
function slowBody(_req: unknown, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.write('first chunk;');
  const timer = setTimeout(() => res.end('rest'), SLOW_MS);
  res.on('close', () => clearTimeout(timer));
}

/** One service per server behaviour and policy combination, e.g. `head-hedge-timeout-false`. */
function serviceName(behaviour: string, policy: string): string {
  return `${behaviour}-${policy.replace(/[^a-z]+/g, '-')}`.replace(/-$/, '');
}

const POLICIES: Record<string, Record<string, unknown>> = {
  default: {},
  'timeout: false': { timeout: false },
  'retry: false': { retry: false },
  'retry: false, timeout: false': { retry: false, timeout: false },
  perTryTimeout: { perTryTimeout: '5s' },
  hedge: { hedge: { after: '10ms', maxExtraLoad: 1 } },
  'hedge, timeout: false': { hedge: { after: '10ms', maxExtraLoad: 1 }, timeout: false },
  'hedge, retry: false, timeout: false': { hedge: { after: '10ms', maxExtraLoad: 1 }, retry: false, timeout: false },
  breaker: { breaker: true },
  concurrency: { concurrency: { max: 4, queue: 4 } },
  'adaptive concurrency': { concurrency: { adaptive: true } },
  fault: { fault: { delay: { percent: 0, duration: '1ms' } } },
};

describe('a caller abort (issue 9, defects 1 and 6)', () => {
  let healthy: Backend[];
  let headBackends: Backend[];
  let bodyBackends: Backend[];
  let mesh: Mesh;

  before(async () => {
    healthy = await Promise.all([startBackend(), startBackend()]);
    headBackends = await Promise.all([startBackend(slowHead), startBackend(slowHead)]);
    bodyBackends = await Promise.all([startBackend(slowBody), startBackend(slowBody)]);
    const services: Record<string, unknown> = {
      healthy: { endpoints: healthy.map((b) => b.address), breaker: { minRequests: 5, errorRate: 0.5 } },
    };
    for (const [name, policy] of Object.entries(POLICIES)) {
      services[serviceName('head', name)] = { endpoints: headBackends.map((b) => b.address), ...policy };
      services[serviceName('body', name)] = { endpoints: bodyBackends.map((b) => b.address), ...policy };
    }
    mesh = await createMesh({ service: 'caller', config: { services: services as never } });
  });

  after(async () => {
    await mesh.close();
    await Promise.all([...healthy, ...headBackends, ...bodyBackends].map((b) => b.close()));
  });

  it('an already-aborted signal is MESH_ABORTED, sends nothing, and never opens the breaker of a healthy service', async () => {
    const custom = new AbortController();
    custom.abort(new Error('custom reason'));
    const fired = AbortSignal.timeout(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const signals = [AbortSignal.abort(), fired, custom.signal];
    for (let i = 0; i < 10; i++) {
      for (const signal of signals) {
        await assert.rejects(mesh.client('healthy').request({ path: '/', signal }), (error: unknown) => {
          assert.ok(isMeshError(error) && error.code === 'MESH_ABORTED', String(error));
          assert.match(error.message, /aborted by the caller before it was sent/);
          assert.equal(error.cause, signal.reason);
          return true;
        });
      }
      await assert.rejects(mesh.fetch('http://healthy/', { signal: AbortSignal.abort() }), (error: unknown) => isMeshError(error) && error.code === 'MESH_ABORTED');
    }
    assert.equal(healthy[0]!.received.length + healthy[1]!.received.length, 0, 'nothing reached the server');
    const state = mesh.state() as { services: Record<string, { breaker: { state: string; failures: number }; endpoints: { failures: number }[] }> };
    assert.equal(state.services.healthy!.breaker.state, 'closed');
    assert.equal(state.services.healthy!.breaker.failures, 0);
    const res = await mesh.client('healthy').request({ path: '/' });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
  });

  for (const name of Object.keys(POLICIES)) {
    it(`${name}: an abort in flight is MESH_ABORTED within milliseconds`, async () => {
      const result = await settleAfterAbort((signal) => mesh.client(serviceName('head', name)).request({ path: '/', signal }), 40);
      assert.equal(result.code, 'MESH_ABORTED');
      assert.ok(result.lateMs < 100, `settled ${result.lateMs.toFixed(1)} ms after the abort`);
    });

    it(`${name}: an abort while the body is read is MESH_ABORTED within milliseconds`, async () => {
      const result = await settleAfterAbort(async (signal) => {
        const res = await mesh.client(serviceName('body', name)).request({ path: '/', signal });
        return res.body.text();
      }, 40);
      assert.equal(result.code, 'MESH_ABORTED');
      assert.ok(result.lateMs < 100, `settled ${result.lateMs.toFixed(1)} ms after the abort`);
    });
  }

  it('aborts in flight leave the breaker closed, the endpoints unejected and their load estimate untouched', async () => {
    const service = serviceName('head', 'breaker');
    const before = (mesh.state() as { services: Record<string, { endpoints: { ewmaMs: number }[] }> }).services[service]!.endpoints.map((e) => e.ewmaMs);
    const results = await Promise.all(Array.from({ length: 25 }, () => settleAfterAbort((signal) => mesh.client(service).request({ path: '/', signal }), 30)));
    assert.deepEqual(new Set(results.map((r) => r.code)), new Set(['MESH_ABORTED']));
    const state = (mesh.state() as { services: Record<string, { breaker: { state: string; failures: number }; budget: unknown; endpoints: { healthy: boolean; failures: number; ewmaMs: number }[] }> }).services[service]!;
    assert.equal(state.breaker.state, 'closed');
    assert.equal(state.breaker.failures, 0);
    for (const endpoint of state.endpoints) {
      assert.equal(endpoint.healthy, true);
      assert.equal(endpoint.failures, 0);
    }
    // A caller's abort says nothing about latency either: 25 aborts after 30 ms would have
    // raised the estimate to 30 ms (it may only have decayed since).
    for (const [i, endpoint] of state.endpoints.entries()) assert.ok(endpoint.ewmaMs <= before[i]!, `ewma ${before[i]} -> ${endpoint.ewmaMs}`);
  });

  it('a connection that breaks off mid-body is MESH_UPSTREAM_FAILED with the cause kept', async () => {
    const broken = await startBackend((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('ten bytes.');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const local = await createMesh({ service: 'caller', config: { services: { broken: { endpoints: [broken.address] } } } });
    try {
      const res = await local.client('broken').request({ path: '/' });
      await assert.rejects(res.body.text(), (error: unknown) => {
        assert.ok(isMeshError(error) && error.code === 'MESH_UPSTREAM_FAILED', String(error));
        assert.match(error.message, /broke off while it was read/);
        assert.ok(error.cause instanceof Error && 'code' in error.cause, 'the undici error is the cause');
        return true;
      });
    } finally {
      await local.close();
      await broken.close();
    }
  });

  it('a caller destroying its own body mid-read gets MESH_ABORTED from the read', async () => {
    const res = await mesh.client(serviceName('body', 'default')).request({ path: '/' });
    const reading = res.body.text();
    setTimeout(() => res.body.destroy(), 20);
    await assert.rejects(reading, (error: unknown) => isMeshError(error) && error.code === 'MESH_ABORTED');
  });
});
