/**
 * The emulator against responses recorded from real Consul agents (test/fixtures/consul/,
 * sources in its README): same status, the headers that matter, and the same body shape —
 * keys in the same order with values of the same JSON type; values that belong to one cluster
 * (IDs, addresses, indexes) may differ, everything else must match.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { startConsulEmulator } from '../support/consul-emulator/index.ts';
import { consulHttp } from '../support/consul-emulator/wire-client.ts';
import { emulatorForTest } from './emulator-for-test.ts';

const FIXTURES = new URL('../fixtures/consul/', import.meta.url);

function fixture(name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8');
}

/** A recorded raw response: status, lower-cased headers, body. */
function recorded(name: string): { status: number; headers: Record<string, string>; body: string } {
  const text = fixture(name);
  const split = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: text.slice(split + 4) };
}

/** The JSON shape of a value: key order and types, arrays by their elements' shapes. */
function shape(value: unknown): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.map(shape);
  if (typeof value === 'object') return Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, shape(v)]);
  return typeof value;
}

/** Replaces values that differ per cluster, so the rest can be compared exactly. */
function withoutClusterValues(value: unknown): unknown {
  const perCluster = new Set(['ID', 'Node', 'Address', 'CreateIndex', 'ModifyIndex', 'lan', 'lan_ipv4', 'wan', 'wan_ipv4']);
  if (Array.isArray(value)) return value.map(withoutClusterValues);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, perCluster.has(k) && typeof v !== 'object' ? typeof v : withoutClusterValues(v)]),
    );
  }
  return value;
}

test('GET /v1/health/service/backend matches the recorded CE response (shape and every non-cluster value)', async (t) => {
  const consul = await startConsulEmulator();
  t.after(() => consul.close());
  // The capture's two instances, registered without checks (it shows only serfHealth).
  await consul.catalog.register({ Name: 'backend', ID: 'backend', Port: 7000 });
  await consul.catalog.register({ Name: 'backend', ID: 'backend-v2', Port: 7001 });
  const res = await consulHttp(consul.url).get('/v1/health/service/backend');
  const real = JSON.parse(fixture('health-service-backend.json')) as unknown[];
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'application/json');
  assert.ok(res.index >= 1);
  const emulated = res.json<unknown[]>();
  assert.deepEqual(shape(emulated), shape(real));
  assert.deepEqual(withoutClusterValues(emulated), withoutClusterValues(real));
  // Service IDs are not per-cluster: they are what was registered.
  assert.deepEqual(
    emulated.map((e) => (e as { Service: { ID: string } }).Service.ID),
    ['backend', 'backend-v2'],
  );
});

test('GET /v1/kv/foo/bar, ?recurse and ?raw match the recorded bodies (DirEntry field order included)', async (t) => {
  const { http } = await emulatorForTest(t);
  await http.put('/v1/kv/foo/bar', '{"nice":"json"}');
  await http.put('/v1/kv/foo/bar2', '{"more":"json"}');
  await http.put('/v1/kv/foo/bar3', '{"last":"json"}');
  const single = await http.get('/v1/kv/foo/bar');
  const realSingle = JSON.parse(fixture('kv-get-single.json')) as unknown[];
  assert.deepEqual(shape(single.json()), shape(realSingle));
  assert.deepEqual(withoutClusterValues(single.json()), withoutClusterValues(realSingle));
  const recurse = await http.get('/v1/kv/foo?recurse=1');
  const realRecurse = JSON.parse(fixture('kv-get-recurse.json')) as unknown[];
  assert.deepEqual(shape(recurse.json()), shape(realRecurse));
  assert.deepEqual(withoutClusterValues(recurse.json()), withoutClusterValues(realRecurse));
  assert.equal((await http.get('/v1/kv/foo/bar?raw=1')).body, fixture('kv-get-raw.txt'));
  // With recurse, raw is ignored (the same issue shows JSON for ?recurse=1&raw=1).
  assert.deepEqual(withoutClusterValues((await http.get('/v1/kv/foo?recurse=1&raw=1')).json()), withoutClusterValues(realRecurse));
});

test('a recursive KV read filtered to nothing by ACLs is the recorded 404: index headers, empty text/plain body', async (t) => {
  const consul = await startConsulEmulator({ acl: { defaultPolicy: 'deny', tokens: { other: { policy: 'read', keyPrefix: 'other/' } } } });
  t.after(() => consul.close());
  await consul.kv.put('data/a', '1');
  const res = await consulHttp(consul.url).get('/v1/kv/data?recurse&token=other');
  const real = recorded('kv-recurse-404-acl-filtered.http');
  assert.equal(res.status, real.status);
  assert.equal(res.body, real.body);
  for (const name of ['content-length', 'content-type', 'x-consul-knownleader', 'x-consul-lastcontact']) {
    assert.equal(res.headers[name], real.headers[name], name);
  }
  assert.match(res.headers['x-consul-index'] ?? '', /^[1-9]\d*$/);
});

test('an unknown token is the recorded 403 ACL not found (status, body, content type and length)', async (t) => {
  const consul = await startConsulEmulator({ acl: { defaultPolicy: 'deny', tokens: {} } });
  t.after(() => consul.close());
  const res = await consulHttp(consul.url).get('/v1/kv/foo', { 'X-Consul-Token': 'a3d684c1-b6cf-48ec-bd26-6da45afb6006' });
  const real = recorded('acl-not-found-403.http');
  assert.equal(res.status, real.status);
  assert.equal(res.body, real.body);
  for (const name of ['content-length', 'content-type', 'vary']) assert.equal(res.headers[name], real.headers[name], name);
});

test('a KV read the token may not make is the recorded 403 Permission denied, as a server agent words it', async (t) => {
  const consul = await startConsulEmulator({ acl: { defaultPolicy: 'deny', tokens: {} } });
  t.after(() => consul.close());
  await consul.kv.put('foo', 'x');
  const res = await consulHttp(consul.url).get('/v1/kv/foo');
  const real = recorded('kv-get-permission-denied-403.http');
  assert.equal(res.status, real.status);
  for (const name of ['content-type', 'vary', 'x-consul-default-acl-policy']) assert.equal(res.headers[name], real.headers[name], name);
  assert.equal(res.headers['x-consul-index'], real.headers['x-consul-index'], 'no query meta on a refused read');
  // The capture went through a client agent, which prefixes the RPC error.
  assert.equal(real.body, `rpc error making call: ${res.body}`);
  assert.equal(res.body, 'Permission denied');
});
