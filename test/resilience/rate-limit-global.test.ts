import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { rateLimitLayer } from '../../src/resilience/rate-limit.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';
import { type RedisServer, startRedis } from '../support/redis.ts';
import { callStatus, depsFor, type PoolTransport, policyFor, poolTransport } from './layer-harness.ts';

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
    const meshA = rateLimitLayer(depsFor(policyFor({ name: 'shared-a', rateLimit })));
    const meshB = rateLimitLayer(depsFor(policyFor({ name: 'shared-a', rateLimit })));
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
    const layer = rateLimitLayer(depsFor(policyFor({ name: 'insured', rateLimit })));
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

  it('needs a Redis URL for a global scope', () => {
    const layer = rateLimitLayer(depsFor(policyFor({ rateLimit: { rps: 1, burst: 1, scope: 'global', redis: undefined } })));
    assert.throws(() => layer.wrap(transport), { code: 'MESH_CONFIG_INVALID' });
  });
});
