/**
 * Regression: the cacheDir copy of the control config was applied at start-up whatever store
 * it was read from. Two services on one host sharing a cacheDir (or one service moved from a
 * staging prefix to a production one) would start, during a Consul outage, on the other
 * fleet's config. The copy now stands in only for the store it was read from.
 * Regression: the copy was one file per cacheDir, so two services on two stores sharing it
 * overwrote each other's copy, and after a restart during an outage only the last writer
 * started from its fleet's config. Each store now has its own file.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMesh } from '../../src/index.ts';
import { startConsulEmulator } from '../support/consul-emulator/index.ts';
import type { Backend } from '../support/http-backend.ts';
import { suiteTempDir } from '../support/temp-dir.ts';
import { configState, outcome, portBackend } from './consul-control-harness.ts';

describe('regression: the cacheDir config copy stands in only for the store it was read from', () => {
  const dir = suiteTempDir('meshlet-cache-source-');
  let backend: Backend;
  before(async () => {
    backend = await portBackend();
  });
  after(async () => {
    await backend.close();
  });

  it('regression: a mesh on another prefix, started with Consul down, does not take the cached config of the first prefix', async () => {
    const consul = await startConsulEmulator();
    const port = consul.port;
    const cacheDir = join(dir(), 'shared-cache');
    await consul.kv.put('team-a/services/api', JSON.stringify({ endpoints: [backend.address] }));
    const first = await createMesh({ service: 'a', control: `consul://127.0.0.1:${port}/team-a`, cacheDir });
    assert.equal(await outcome(first, 'api'), backend.port, 'the first mesh runs on team-a/');
    await first.close();
    await consul.close();

    // Consul is down; this mesh reads team-b/, which the cache does not hold.
    const second = await createMesh({ service: 'b', control: `consul://127.0.0.1:${port}/team-b`, cacheDir });
    try {
      const state = configState(second);
      assert.equal(state.control.cache, null, 'no cached config stands in for team-b/');
      assert.equal(state.source, 'bootstrap');
      assert.equal(await outcome(second, 'api'), 'MESH_UNKNOWN_SERVICE', "team-a/'s services are not team-b/'s");
    } finally {
      await second.close();
    }

    // The same prefix still starts from its copy.
    const again = await createMesh({ service: 'a', control: `consul://127.0.0.1:${port}/team-a`, cacheDir });
    try {
      assert.equal(configState(again).control.cache?.readFrom, `consul://127.0.0.1:${port}/team-a`);
      assert.equal(await outcome(again, 'api'), backend.port);
    } finally {
      await again.close();
    }
  });

  it('regression: two meshes on two prefixes sharing a cacheDir each restart, with Consul down, from their own copy', async () => {
    const otherBackend = await portBackend();
    const consul = await startConsulEmulator();
    const port = consul.port;
    const cacheDir = join(dir(), 'two-stores');
    await consul.kv.put('fleet-a/services/api', JSON.stringify({ endpoints: [backend.address] }));
    await consul.kv.put('fleet-b/services/api', JSON.stringify({ endpoints: [otherBackend.address] }));
    try {
      const a = await createMesh({ service: 'a', control: `consul://127.0.0.1:${port}/fleet-a`, cacheDir });
      const b = await createMesh({ service: 'b', control: `consul://127.0.0.1:${port}/fleet-b`, cacheDir });
      assert.deepEqual([await outcome(a, 'api'), await outcome(b, 'api')], [backend.port, otherBackend.port]);
      await a.close();
      await b.close();
      await consul.close();

      for (const [prefix, expected] of [['fleet-a', backend.port], ['fleet-b', otherBackend.port]] as const) {
        const again = await createMesh({ service: 'x', control: `consul://127.0.0.1:${port}/${prefix}`, cacheDir });
        try {
          assert.equal(configState(again).control.cache?.readFrom, `consul://127.0.0.1:${port}/${prefix}`, `${prefix} starts from its own copy`);
          assert.equal(await outcome(again, 'api'), expected);
        } finally {
          await again.close();
        }
      }
    } finally {
      await otherBackend.close();
    }
  });
});
