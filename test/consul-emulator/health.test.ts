/**
 * Health, catalog and agent endpoints (CONSUL.md §2): register with a TTL check (critical until
 * passed), pass/warn/fail, `passing` and `tag` filters, blocking on a service's own index, an
 * unknown service as 200 [], the catalog's service → tags map, deregistration.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../support/consul-emulator/wire-client.ts';
import { emulatorForTest } from './emulator-for-test.ts';

interface Entry {
  Service: { ID: string; Service: string; Tags: string[]; Port: number; Address: string };
  Checks: { CheckID: string; Status: string; Output: string }[];
}

test('an unknown service is 200 [] with an index', async (t) => {
  const { http } = await emulatorForTest(t);
  const res = await http.get('/v1/health/service/nothing');
  assert.equal(res.status, 200);
  assert.deepEqual(res.json(), []);
  assert.ok(res.index >= 1);
  assert.equal((await http.get('/v1/health/service/')).status, 400);
});

test('a registered TTL check starts critical, pass makes it passing, warn and fail follow', async (t) => {
  const { http } = await emulatorForTest(t);
  const reg = await http.put('/v1/agent/service/register', { Name: 'web', ID: 'web-1', Port: 8080, Check: { TTL: '10s' } });
  assert.equal(reg.status, 200);
  assert.equal(reg.body, '');
  const status = async () => (await http.get('/v1/health/service/web')).json<Entry[]>()[0]?.Checks.find((c) => c.CheckID === 'service:web-1');
  assert.equal((await status())?.Status, 'critical');
  assert.equal((await http.put('/v1/agent/check/pass/service:web-1?note=ok')).status, 200);
  assert.deepEqual(await status().then((c) => [c?.Status, c?.Output]), ['passing', 'ok']);
  await http.put('/v1/agent/check/warn/service:web-1');
  assert.equal((await status())?.Status, 'warning');
  await http.put('/v1/agent/check/fail/service:web-1');
  assert.equal((await status())?.Status, 'critical');
  const unknown = await http.put('/v1/agent/check/pass/nope');
  assert.equal(unknown.status, 404);
  assert.match(unknown.body, /^Unknown check ID "nope"/);
});

test('passing drops instances with any non-passing check (warning included)', async (t) => {
  const { consul, http } = await emulatorForTest(t);
  for (const id of ['a', 'b', 'c']) await consul.catalog.register({ Name: 'api', ID: id, Port: 1, Check: { TTL: '10s' } });
  await consul.catalog.setCheck('service:a', 'passing');
  await consul.catalog.setCheck('service:b', 'warning');
  const ids = (await http.get('/v1/health/service/api?passing')).json<Entry[]>().map((e) => e.Service.ID);
  assert.deepEqual(ids, ['a']);
  assert.equal((await http.get('/v1/health/service/api?passing=false')).json<Entry[]>().length, 3);
  const bad = await http.get('/v1/health/service/api?passing=maybe');
  assert.equal(bad.status, 400);
  assert.equal(bad.body, 'Invalid value for ?passing');
});

test('tag filters are case-insensitive and every tag must match', async (t) => {
  const { consul, http } = await emulatorForTest(t);
  await consul.catalog.register({ Name: 'db', ID: 'db-1', Tags: ['Primary', 'v2'], Check: { TTL: '10s' } });
  await consul.catalog.register({ Name: 'db', ID: 'db-2', Tags: ['replica', 'v2'], Check: { TTL: '10s' } });
  const ids = async (q: string) => (await http.get(`/v1/health/service/db${q}`)).json<Entry[]>().map((e) => e.Service.ID);
  assert.deepEqual(await ids('?tag=primary'), ['db-1']);
  assert.deepEqual(await ids('?tag=V2'), ['db-1', 'db-2']);
  assert.deepEqual(await ids('?tag=v2&tag=REPLICA'), ['db-2']);
  assert.deepEqual(await ids('?tag=v2&tag=nope'), []);
});

test('a blocking health read wakes on its own service, not on another', async (t) => {
  const { consul, http } = await emulatorForTest(t);
  await consul.catalog.register({ Name: 'pay', ID: 'pay-1', Check: { TTL: '10s' } });
  await consul.catalog.register({ Name: 'other', ID: 'other-1', Check: { TTL: '10s' } });
  const { index } = await http.get('/v1/health/service/pay');
  const parked = http.get(`/v1/health/service/pay?index=${index}&wait=5s`);
  await waitFor(() => consul.openBlockingQueries === 1);
  await consul.catalog.setCheck('service:other-1', 'passing');
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(consul.openBlockingQueries, 1, 'another service changing must not wake it');
  await http.put('/v1/agent/check/pass/service:pay-1');
  const res = await parked;
  assert.ok(res.index > index);
  assert.equal(res.json<Entry[]>()[0]?.Checks.find((c) => c.CheckID === 'service:pay-1')?.Status, 'passing');
});

test('a blocking read of a service that does not exist yet wakes when it is registered', async (t) => {
  const { consul, http } = await emulatorForTest(t);
  const { index } = await http.get('/v1/health/service/new');
  const parked = http.get(`/v1/health/service/new?index=${index}&wait=5s`);
  await waitFor(() => consul.openBlockingQueries === 1);
  await http.put('/v1/agent/service/register', { Name: 'new', Port: 9 });
  const res = await parked;
  assert.equal(res.json<Entry[]>()[0]?.Service.ID, 'new');
});

test('deregister removes the instance; the last one leaving wakes a blocked read with []', async (t) => {
  const { consul, http } = await emulatorForTest(t);
  await http.put('/v1/agent/service/register', { Name: 'gone', ID: 'gone-1', Check: { TTL: '10s' } });
  const { index } = await http.get('/v1/health/service/gone');
  const parked = http.get(`/v1/health/service/gone?index=${index}&wait=5s`);
  await waitFor(() => consul.openBlockingQueries === 1);
  assert.equal((await http.put('/v1/agent/service/deregister/gone-1')).status, 200);
  const res = await parked;
  assert.deepEqual(res.json(), []);
  assert.ok(res.index > index);
  const again = await http.put('/v1/agent/service/deregister/gone-1');
  assert.equal(again.status, 404);
  assert.match(again.body, /^Unknown service ID "gone-1"/);
});

test('catalog services maps each name to its tags, the consul service included', async (t) => {
  const { consul, http } = await emulatorForTest(t);
  await consul.catalog.register({ Name: 'redis', ID: 'r1', Tags: ['primary'] });
  await consul.catalog.register({ Name: 'redis', ID: 'r2', Tags: ['secondary'] });
  const res = await http.get('/v1/catalog/services');
  assert.deepEqual(res.json(), { consul: [], redis: ['primary', 'secondary'] });
  assert.ok(res.index >= 1);
});

test('re-registering an identical service moves no index', async (t) => {
  const { http } = await emulatorForTest(t);
  const def = { Name: 'same', ID: 'same-1', Port: 1, Tags: ['x'], Check: { TTL: '10s' } };
  await http.put('/v1/agent/service/register', def);
  const before = (await http.get('/v1/health/service/same')).index;
  await http.put('/v1/agent/service/register', def);
  assert.equal((await http.get('/v1/health/service/same')).index, before);
});

test('registration errors are 400 with Consul bodies', async (t) => {
  const { http } = await emulatorForTest(t);
  const noName = await http.put('/v1/agent/service/register', { Port: 1 });
  assert.equal(noName.status, 400);
  assert.equal(noName.body, 'Missing service name');
  assert.equal((await http.put('/v1/agent/service/register', '{bad')).status, 400);
  const badStatus = await http.put('/v1/agent/service/register', { Name: 'x', Check: { TTL: '1s', Status: 'ok' } });
  assert.equal(badStatus.status, 400);
});

test('re-registering keeps checks the new definition leaves out, unless replace-existing-checks', async (t) => {
  const { http } = await emulatorForTest(t);
  const checkIds = async () => (await http.get('/v1/health/service/re')).json<Entry[]>()[0]?.Checks.map((c) => c.CheckID);
  await http.put('/v1/agent/service/register', { Name: 're', Checks: [{ CheckID: 'a', TTL: '10s' }, { CheckID: 'b', TTL: '10s' }] });
  await http.put('/v1/agent/check/pass/a');
  await http.put('/v1/agent/service/register', { Name: 're', Checks: [{ CheckID: 'a', TTL: '10s' }] });
  assert.deepEqual(await checkIds(), ['a', 'b', 'serfHealth']);
  const a = (await http.get('/v1/health/service/re')).json<Entry[]>()[0]?.Checks.find((c) => c.CheckID === 'a');
  assert.equal(a?.Status, 'passing', 'a re-registered check without Status keeps its status');
  await http.put('/v1/agent/service/register?replace-existing-checks', { Name: 're', Checks: [{ CheckID: 'a', TTL: '10s' }] });
  assert.deepEqual(await checkIds(), ['a', 'serfHealth']);
  assert.equal((await http.put('/v1/agent/check/pass/b')).status, 404, 'the dropped check no longer runs');
});
