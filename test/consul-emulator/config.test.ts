/**
 * Config entries (CONSUL.md §3.1): PUT /v1/config (kind checked, cas), GET by kind and name
 * (blocking, 404 with Consul's body and index headers), GET a kind, DELETE.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../support/consul-emulator/wire-client.ts';
import { emulatorForTest } from './emulator-for-test.ts';

const router = { Kind: 'service-router', Name: 'web', Routes: [{ Match: { HTTP: { PathPrefix: '/admin' } }, Destination: { Service: 'admin' } }] };

test('put, get, list and delete a config entry with indexes', async (t) => {
  const { http } = await emulatorForTest(t);
  const missing = await http.get('/v1/config/service-router/web');
  assert.equal(missing.status, 404);
  assert.equal(missing.body, 'Config entry not found for "service-router" / "web"');
  assert.ok(missing.index >= 1);
  assert.equal((await http.get('/v1/config/service-router')).body, 'null');
  assert.equal((await http.put('/v1/config', router)).body, 'true');
  const got = await http.get('/v1/config/service-router/web');
  const entry = got.json<Record<string, unknown>>();
  assert.deepEqual(entry.Routes, router.Routes);
  assert.equal(entry.ModifyIndex, got.index);
  assert.equal(entry.CreateIndex, got.index);
  assert.equal((await http.get('/v1/config/service-router')).json<unknown[]>().length, 1);
  assert.equal((await http.del('/v1/config/service-router/web')).body, '{}');
  assert.equal((await http.get('/v1/config/service-router/web')).status, 404);
});

test('cas on a config entry write: 0 creates only, N replaces only at ModifyIndex N', async (t) => {
  const { http } = await emulatorForTest(t);
  assert.equal((await http.put('/v1/config?cas=0', router)).body, 'true');
  assert.equal((await http.put('/v1/config?cas=0', router)).body, 'false');
  const { index } = await http.get('/v1/config/service-router/web');
  assert.equal((await http.put(`/v1/config?cas=${index}`, { ...router, Routes: [] })).body, 'true');
  assert.equal((await http.del(`/v1/config/service-router/web?cas=${index}`)).body, 'false');
});

test('a blocking read of a config entry wakes when it is written', async (t) => {
  const { consul, http } = await emulatorForTest(t);
  const { index } = await http.get('/v1/config/service-resolver/web');
  const parked = http.get(`/v1/config/service-resolver/web?index=${index}&wait=5s`);
  await waitFor(() => consul.openBlockingQueries === 1);
  await http.put('/v1/config', { Kind: 'service-resolver', Name: 'web', DefaultSubset: 'v1', Subsets: { v1: { Filter: 'Service.Meta.version == v1' } } });
  const res = await parked;
  assert.equal(res.status, 200);
  assert.equal(res.json<{ DefaultSubset: string }>().DefaultSubset, 'v1');
});

test('an unknown kind or a bad body is 400', async (t) => {
  const { http } = await emulatorForTest(t);
  const kind = await http.put('/v1/config', { Kind: 'nonsense', Name: 'x' });
  assert.equal(kind.status, 400);
  assert.match(kind.body, /invalid config entry kind: nonsense/);
  assert.equal((await http.put('/v1/config', '{')).status, 400);
});
