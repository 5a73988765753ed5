/**
 * test/support/consul.ts: consulForTests() gives the emulator by default, and with
 * CONSUL_HTTP_ADDR an adapter whose direct helpers go over the HTTP API. The adapter is checked
 * here against an emulator standing in for the real agent, so both paths run in every `npm test`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { consulForTests, emulatorOnly } from '../support/consul.ts';
import { startConsulEmulator } from '../support/consul-emulator/index.ts';
import { consulHttp } from '../support/consul-emulator/wire-client.ts';

test('without CONSUL_HTTP_ADDR it is the emulator, with live fault hooks and counters', async (t) => {
  const consul = await consulForTests({}, {});
  t.after(() => consul.close());
  const emulator = emulatorOnly(t, consul);
  assert.ok(emulator !== undefined);
  assert.equal(emulator?.openBlockingQueries, 0);
  await consul.kv.put('a', 'b');
  assert.equal((await consul.kv.get('a'))?.value, 'b');
  assert.match(consul.url, /^http:\/\/127\.0\.0\.1:\d+$/);
});

test('with CONSUL_HTTP_ADDR the helpers go through the agent’s HTTP API, with the token, and close() cleans up', async (t) => {
  const agent = await startConsulEmulator({ acl: { defaultPolicy: 'deny', tokens: { tok: { policy: 'write' } } } });
  t.after(() => agent.close());
  const consul = await consulForTests({}, { CONSUL_HTTP_ADDR: `127.0.0.1:${agent.port}`, CONSUL_HTTP_TOKEN: 'tok' });
  assert.equal(consul.emulator, undefined);
  assert.equal(consul.url, agent.url);
  assert.equal(consul.token, 'tok');
  await consul.kv.put('cfg/x', 'hello', 5);
  assert.deepEqual(await consul.kv.get('cfg/x').then((e) => [e?.value, e?.flags]), ['hello', 5]);
  assert.equal(await consul.kv.get('cfg/none'), undefined);
  await consul.catalog.register({ Name: 'svc', ID: 'svc-1', Port: 1, Check: { TTL: '10s' } });
  await consul.catalog.setCheck('service:svc-1', 'passing');
  const http = consulHttp(agent.url);
  const health = await http.get('/v1/health/service/svc?passing', { 'X-Consul-Token': 'tok' });
  assert.equal(health.json<unknown[]>().length, 1);
  assert.ok(agent.requests.every((r) => r.token), 'every adapter request carried the token');
  await consul.close();
  assert.equal((await agent.kv.get('cfg/x')), undefined, 'close() removed the key it wrote');
  assert.deepEqual((await http.get('/v1/health/service/svc', { 'X-Consul-Token': 'tok' })).json(), []);
});

test('emulatorOnly skips a test against a real agent', async (t) => {
  const agent = await startConsulEmulator();
  t.after(() => agent.close());
  const consul = await consulForTests({}, { CONSUL_HTTP_ADDR: agent.url });
  let skipped: string | undefined;
  const fake = { skip: (reason: string) => (skipped = reason) } as unknown as Parameters<typeof emulatorOnly>[0];
  assert.equal(emulatorOnly(fake, consul), undefined);
  assert.match(skipped ?? '', /needs the emulator's fault hooks/);
});
