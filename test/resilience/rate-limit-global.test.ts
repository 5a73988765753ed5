import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createMesh, type Mesh } from '../../src/index.ts';
import type { rateLimitLayer } from '../../src/resilience/rate-limit.ts';
import { REDIS_ANSWER_BOUND_MS } from '../../src/resilience/rate-limit-global.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';
import { statusOrCode } from '../support/outcome.ts';
import { type RedisServer, startRedis } from '../support/redis.ts';
import { systemClock } from '../../src/core/clock.ts';
import { callStatus, ctxFor, rateLimitFor, type PoolTransport, policyFor, poolTransport } from './layer-harness.ts';

async function connected(layer: ReturnType<typeof rateLimitLayer>, want: boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const state = layer.state?.() as { global: { connected: boolean } };
    if (state.global.connected === want) return;
    await sleep(20);
  }
  assert.fail(`redis connected never became ${want}`);
}

describe('rate limit layer (global, real redis-server)', () => {
  let redis: RedisServer;
  let backend: Backend;
  let transport: PoolTransport;
  before(async () => {
    redis = await startRedis();
    backend = await startBackend();
    transport = poolTransport(backend.url);
  });
  after(async () => {
    await transport.close();
    await backend.close();
    await redis.stop();
  });

  it('two independent limiters (two meshes) share one limit', async () => {
    const rateLimit = { rps: 10, burst: 10, scope: 'global' as const, redis: redis.url };
    const meshA = rateLimitFor(policyFor({ name: 'shared-a', rateLimit }));
    const meshB = rateLimitFor(policyFor({ name: 'shared-a', rateLimit }));
    const a = meshA.wrap(transport);
    const b = meshB.wrap(transport);
    await connected(meshA, true);
    await connected(meshB, true);
    const before = backend.received.length;
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => callStatus(i % 2 === 0 ? a : b)));
    const ok = results.filter((r) => r === 200).length;
    assert.equal(ok, 10, `10 calls a second across both meshes, got ${JSON.stringify(results)}`);
    assert.equal(results.filter((r) => r === 'MESH_RATE_LIMITED').length, 6);
    assert.equal(backend.received.length - before, 10);
    await meshA.close?.();
    await meshB.close?.();
  });

  it('falls back to the insurance limiter when Redis dies, without failing calls', async () => {
    const rateLimit = { rps: 5, burst: 50, scope: 'global' as const, redis: redis.url };
    const layer = rateLimitFor(policyFor({ name: 'insured', rateLimit }));
    const service = layer.wrap(transport);
    await connected(layer, true);
    assert.equal(await callStatus(service), 200);
    await redis.stop();
    await connected(layer, false);
    const results = [];
    for (let i = 0; i < 8; i++) results.push(await callStatus(service));
    assert.deepEqual(results.slice(0, 5), [200, 200, 200, 200, 200], 'the in-memory insurance admits its 5/s');
    assert.deepEqual(results.slice(5), ['MESH_RATE_LIMITED', 'MESH_RATE_LIMITED', 'MESH_RATE_LIMITED'], 'and still limits');
    await layer.close?.();
    redis = await startRedis(redis.port);
  });

  it('a call already aborted or past its deadline takes no point from the shared limit', async (t) => {
    const rateLimit = { rps: 3, burst: 10, scope: 'global' as const, redis: redis.url };
    const late = rateLimitFor(policyFor({ name: 'gave-up-early', rateLimit }));
    const fresh = rateLimitFor(policyFor({ name: 'gave-up-early', rateLimit }));
    t.after(async () => {
      await late.close?.();
      await fresh.close?.();
    });
    const a = late.wrap(transport);
    const b = fresh.wrap(transport);
    await connected(late, true);
    await connected(fresh, true);
    const aborted = AbortSignal.abort();
    assert.equal(await callStatus(a, ctxFor(systemClock, aborted)), 'MESH_ABORTED');
    assert.equal(await callStatus(a, ctxFor(systemClock, undefined, systemClock.now() - 1)), 'MESH_TIMEOUT');
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await callStatus(b));
    assert.deepEqual(results, [200, 200, 200, 'MESH_RATE_LIMITED'], 'all 3 points of the window are left for calls that go');
  });

  it('needs a Redis URL for a global scope', () => {
    const layer = rateLimitFor(policyFor({ rateLimit: { rps: 1, burst: 1, scope: 'global', redis: undefined } }));
    assert.throws(() => layer.wrap(transport), { code: 'MESH_CONFIG_INVALID' });
  });
});

/** How late a timer may fire on the shared 2-core test machine and still count as on time. */
const SLACK_MS = 30;

describe('a hung Redis (SIGSTOP) is clipped to the call, through the mesh', () => {
  let redis: RedisServer;
  let backend: Backend;
  let mesh: Mesh;
  const call = (options: { timeout?: string; signal?: AbortSignal } = {}) =>
    mesh.client('payments').request({ method: 'GET', path: '/', ...options });
  const globalState = () =>
    (mesh.state().services as Record<string, { 'rate-limit': { global: { connected: boolean } } }>).payments?.['rate-limit'].global;

  before(async () => {
    redis = await startRedis();
    backend = await startBackend();
    const rateLimit = { rps: 1000, scope: 'global' as const, redis: redis.url };
    mesh = await createMesh({ service: 'checkout', config: { services: { payments: { endpoints: [backend.address], rateLimit } } } });
    for (let i = 0; i < 100 && globalState()?.connected !== true; i++) await sleep(20);
    assert.equal(globalState()?.connected, true, 'Redis connected before it hangs');
    assert.equal(await statusOrCode(call()), 200, 'a healthy Redis admits');
    redis.pause();
  });
  after(async () => {
    redis.resume();
    await mesh.close();
    await backend.close();
    await redis.stop();
  });

  it('regression: a timeout: 50ms call ends at its deadline with MESH_TIMEOUT, not when Redis gives up', async () => {
    const sent = backend.received.length;
    const started = performance.now();
    const outcome = await statusOrCode(call({ timeout: '50ms' }));
    const elapsed = performance.now() - started;
    assert.equal(outcome, 'MESH_TIMEOUT');
    assert.ok(elapsed >= 49 && elapsed < 50 + SLACK_MS, `settled after ${elapsed.toFixed(1)} ms, want ~50 ms`);
    assert.equal(backend.received.length, sent, 'the timed-out call was never sent');
  });

  it('regression: an abort while Redis hangs settles the call at once with MESH_ABORTED', async () => {
    const controller = new AbortController();
    const pending = statusOrCode(call({ signal: controller.signal }));
    await sleep(20);
    const abortedAt = performance.now();
    controller.abort();
    const outcome = await pending;
    const afterAbort = performance.now() - abortedAt;
    assert.equal(outcome, 'MESH_ABORTED');
    assert.ok(afterAbort < 10, `settled ${afterAbort.toFixed(1)} ms after the abort`);
  });

  it('a call with time to spare is admitted by the insurance once Redis has not answered within the bound', async () => {
    const started = performance.now();
    const outcome = await statusOrCode(call({ timeout: '2s' }));
    const elapsed = performance.now() - started;
    assert.equal(outcome, 200);
    assert.ok(
      elapsed >= REDIS_ANSWER_BOUND_MS - 1 && elapsed < REDIS_ANSWER_BOUND_MS + SLACK_MS,
      `admitted after ${elapsed.toFixed(1)} ms, want ~${REDIS_ANSWER_BOUND_MS} ms`,
    );
  });

  it('the answers Redis gives after it resumes are dropped without an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const late = [statusOrCode(call({ timeout: '30ms' })), statusOrCode(call({ timeout: '30ms' }))];
      assert.deepEqual(await Promise.all(late), ['MESH_TIMEOUT', 'MESH_TIMEOUT']);
      redis.resume();
      // Redis now answers every check queued while it hung; a fresh call is admitted by it.
      assert.equal(await statusOrCode(call({ timeout: '1s' })), 200);
      await sleep(50);
      assert.deepEqual(unhandled, []);
      assert.equal(globalState()?.connected, true);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

/**
 * Run in a fresh Node: imports meshlet, reports whether Redis support is loaded, builds a
 * mesh with a local limit and then one with a global limit (its Redis unreachable),
 * reporting after each, then closes both and says when.
 */
const LOADED_PROBE = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const loaded = () => Object.keys(require.cache).filter((p) => /node_modules\\/(ioredis|rate-limiter-flexible)\\//.test(p)).length > 0;
const { createMesh } = await import(process.argv[1]);
const seen = { imported: loaded() };
const local = await createMesh({ service: 'a', config: { services: { s: { endpoints: ['127.0.0.1:1'], rateLimit: { rps: 5 } } } } });
seen.localLimit = loaded();
const global = await createMesh({ service: 'a', config: { services: { s: { endpoints: ['127.0.0.1:1'],
  rateLimit: { rps: 5, scope: 'global', redis: 'redis://127.0.0.1:1' } } } } });
await global.client('s').request({ method: 'GET', path: '/', timeout: '2s' }).catch(() => {});
seen.globalLimit = loaded();
await local.close();
await global.close();
seen.closedAt = Date.now();
console.log(JSON.stringify(seen));
`;

describe('Redis support loads on demand', () => {
  it('importing meshlet and local limits load neither ioredis nor rate-limiter-flexible; a global limit does, and its close lets the process exit', async () => {
    const index = new URL('../../src/index.ts', import.meta.url).pathname;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', LOADED_PROBE, index]);
    const exitedAt = Date.now();
    const { closedAt, ...seen } = JSON.parse(stdout) as { closedAt: number };
    assert.deepEqual(seen, { imported: false, localLimit: false, globalLimit: true });
    // ioredis's default disconnectTimeout held a process 2 s past close() when Redis was unreachable.
    assert.ok(exitedAt - closedAt < 1000, `the process exited ${exitedAt - closedAt} ms after close()`);
  });
});
