/**
 * Regression: with the KV agent hung (accepting connections, answering nothing: a partition,
 * a stuck agent), createMesh waited out the first read's whole 10 s request timeout before it
 * started on its cached config. It now starts after the bound Consul discovery also uses
 * (2 s), says Consul is unavailable, and applies Consul's answer when it comes.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMesh } from '../../src/index.ts';
import { startConsulEmulator } from '../support/consul-emulator/index.ts';
import type { Backend } from '../support/http-backend.ts';
import { suiteTempDir } from '../support/temp-dir.ts';
import { configState, outcome, portBackend } from './consul-control-harness.ts';

describe('regression: createMesh with a hung Consul KV agent', () => {
  const dir = suiteTempDir('meshlet-hung-start-');
  let backend: Backend;
  before(async () => {
    backend = await portBackend();
  });
  after(async () => {
    await backend.close();
  });

  it('regression: starts within the 2 s start-up bound on its cached config, not after the 10 s read timeout', async () => {
    const consul = await startConsulEmulator();
    try {
      const control = `consul://127.0.0.1:${consul.port}/hung-start`;
      const cacheDir = join(dir(), 'cache');
      await consul.kv.put('hung-start/services/api', JSON.stringify({ endpoints: [backend.address] }));
      const first = await createMesh({ service: 'a', control, cacheDir });
      assert.equal(await outcome(first, 'api'), backend.port);
      await first.close();

      consul.faults.hangNext(1);
      const startedAt = performance.now();
      const mesh = await createMesh({ service: 'a', control, cacheDir });
      const took = performance.now() - startedAt;
      try {
        assert.ok(took >= 1900 && took < 5000, `createMesh took ${Math.round(took)} ms`);
        const state = configState(mesh);
        assert.equal(state.control.status, 'unavailable');
        assert.match(state.control.lastError ?? '', /did not answer the first read .* within 2000 ms/);
        assert.equal(state.control.cache?.readFrom, control, 'the cached config stands in');
        assert.equal(await outcome(mesh, 'api'), backend.port, 'calls go on the cached config');
      } finally {
        await mesh.close();
      }
    } finally {
      await consul.close();
    }
  });
});
