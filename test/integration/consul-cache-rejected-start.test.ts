/**
 * Regression: a mesh (re)started while Consul KV held a config every mesh refuses (a bad
 * push made with `consul kv put`, or one a newer meshlet wrote) started on its bootstrap
 * config alone, though its cacheDir held the last good one: the running meshes kept serving,
 * but each new or restarted instance lost every service the bootstrap lacks. The cacheDir copy
 * now stands in at start-up when the store's first answer is refused, as when it is unreachable;
 * the rejection is still reported, and a good push replaces the copy.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMesh } from '../../src/index.ts';
import { type ConsulEmulator, startConsulEmulator } from '../support/consul-emulator/index.ts';
import type { Backend } from '../support/http-backend.ts';
import { suiteTempDir } from '../support/temp-dir.ts';
import { configState, eventually, outcome, portBackend } from './consul-control-harness.ts';

describe('regression: a mesh started while KV holds a refused config starts from its cacheDir copy', () => {
  const dir = suiteTempDir('meshlet-cache-rejected-');
  let consul: ConsulEmulator;
  let a: Backend;
  let b: Backend;
  before(async () => {
    consul = await startConsulEmulator();
    a = await portBackend();
    b = await portBackend();
  });
  after(async () => {
    await a.close();
    await b.close();
    await consul.close();
  });

  for (const [what, bad] of [
    ['an invalid policy', JSON.stringify({ endpoints: ['http://127.0.0.1:9'], retry: { attempts: 99 } })],
    ['a value that does not parse', '{ "endpoints": ['],
  ] as const) {
    it(`regression: KV holding ${what} at start-up: the cached config serves, the rejection is reported`, async () => {
      const prefix = `rejected-start-${what.replaceAll(' ', '-')}`;
      const cacheDir = join(dir(), prefix);
      const control = `consul://127.0.0.1:${consul.port}/${prefix}`;
      await consul.kv.put(`${prefix}/services/api`, JSON.stringify({ endpoints: [a.address] }));
      const first = await createMesh({ service: 'web', control, cacheDir });
      assert.equal(await outcome(first, 'api'), a.port);
      await first.close();

      await consul.kv.put(`${prefix}/services/api`, bad);
      const restarted = await createMesh({ service: 'web', control, cacheDir });
      try {
        assert.equal(await outcome(restarted, 'api'), a.port, 'the last good config serves, not the bootstrap alone');
        const state = configState(restarted);
        assert.equal(state.control.cache?.readFrom, control, 'state() says the config came from the cache');
        assert.match(state.lastRejected?.issues[0]?.path ?? '', new RegExp(`^${prefix}/services/api`), 'the refused key is still named');
        // A good push replaces the cached copy.
        await consul.kv.put(`${prefix}/services/api`, JSON.stringify({ endpoints: [b.address] }));
        await eventually(async () => (await outcome(restarted, 'api')) === b.port, 'the good push to apply');
        assert.equal(configState(restarted).control.cache, null);
      } finally {
        await restarted.close();
      }
    });
  }
});
