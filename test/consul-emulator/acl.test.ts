/**
 * ACL emulation (CONSUL.md §4): tokens from X-Consul-Token, Authorization: Bearer and ?token=;
 * an unknown secret is 403 `ACL not found`; a token without the permission is 403 `Permission
 * denied` on single reads and writes; recursive reads are filtered (nothing visible → 404);
 * X-Consul-Default-Acl-Policy on every answer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startConsulEmulator } from '../support/consul-emulator/index.ts';
import { consulHttp } from '../support/consul-emulator/wire-client.ts';

async function secured(t: { after(fn: () => Promise<void>): void }) {
  const consul = await startConsulEmulator({
    acl: {
      defaultPolicy: 'deny',
      tokens: {
        'write-token': { policy: 'write' },
        'read-token': { policy: 'read' },
        'meshlet-only': { policy: 'read', keyPrefix: 'meshlet/' },
      },
    },
  });
  t.after(() => consul.close());
  await consul.kv.put('meshlet/defaults', '{}');
  await consul.kv.put('other/secret', 'x');
  return { consul, http: consulHttp(consul.url) };
}

test('an unknown token is 403 ACL not found on any endpoint, whichever way it is sent', async (t) => {
  const { http } = await secured(t);
  for (const [path, headers] of [
    ['/v1/kv/meshlet/defaults', { 'X-Consul-Token': 'nope' }],
    ['/v1/kv/meshlet/defaults', { Authorization: 'bearer nope' }],
    ['/v1/kv/meshlet/defaults?token=nope', {}],
    ['/v1/health/service/web', { 'X-Consul-Token': 'nope' }],
  ] as const) {
    const res = await http.get(path, headers);
    assert.equal(res.status, 403, path);
    assert.equal(res.body, 'ACL not found');
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(res.headers['x-consul-default-acl-policy'], 'deny');
  }
});

test('a read token reads but cannot write: 403 Permission denied', async (t) => {
  const { http } = await secured(t);
  const read = { 'X-Consul-Token': 'read-token' };
  assert.equal((await http.get('/v1/kv/meshlet/defaults', read)).status, 200);
  const write = await http.put('/v1/kv/meshlet/defaults', '{"x":1}', read);
  assert.equal(write.status, 403);
  assert.equal(write.body, 'Permission denied');
  assert.equal((await http.put('/v1/kv/meshlet/defaults', '{"x":1}', { 'X-Consul-Token': 'write-token' })).body, 'true');
  assert.equal((await http.put('/v1/agent/service/register', { Name: 'x' }, read)).status, 403);
});

test('the anonymous token under default deny: single read 403, recursive read filtered to 404', async (t) => {
  const { http } = await secured(t);
  const single = await http.get('/v1/kv/meshlet/defaults');
  assert.equal(single.status, 403);
  assert.equal(single.body, 'Permission denied');
  const list = await http.get('/v1/kv/meshlet/?recurse');
  assert.equal(list.status, 404);
  assert.ok(list.index >= 1);
});

test('a token scoped to a prefix sees only its keys in a recursive read, flagged as filtered', async (t) => {
  const { http } = await secured(t);
  const scoped = { 'X-Consul-Token': 'meshlet-only' };
  const list = await http.get('/v1/kv/?recurse', scoped);
  assert.deepEqual(
    list.json<{ Key: string }[]>().map((e) => e.Key),
    ['meshlet/defaults'],
  );
  assert.equal(list.headers['x-consul-results-filtered-by-acls'], 'true');
  assert.equal((await http.get('/v1/kv/other/secret', scoped)).status, 403);
});

test('without the acl option every token works and the policy reads allow', async (t) => {
  const consul = await startConsulEmulator();
  t.after(() => consul.close());
  const res = await consulHttp(consul.url).get('/v1/kv/x', { 'X-Consul-Token': 'anything' });
  assert.equal(res.status, 404);
  assert.equal(res.headers['x-consul-default-acl-policy'], 'allow');
});
