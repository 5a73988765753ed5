/**
 * The emulator's KV endpoint against Consul's documented and coded semantics (CONSUL.md §1):
 * index headers on every read including 404s, per-key ModifyIndex, list index over tombstones,
 * identical rewrites not moving any index, CAS on put and delete, raw, keys with separator.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emulatorForTest } from './emulator-for-test.ts';

test('a missing key is 404 with an empty body and index headers (never index 0)', async (t) => {
  const { http } = await emulatorForTest(t);
  const res = await http.get('/v1/kv/missing');
  assert.equal(res.status, 404);
  assert.equal(res.body, '');
  assert.ok(res.index >= 1);
  assert.equal(res.headers['x-consul-knownleader'], 'true');
  assert.equal(res.headers['x-consul-lastcontact'], '0');
  assert.equal(res.headers['x-consul-default-acl-policy'], 'allow');
});

test('put then get returns one entry with DirEntry fields; the index is the key ModifyIndex', async (t) => {
  const { http } = await emulatorForTest(t);
  const put = await http.put('/v1/kv/meshlet/defaults?flags=42', '{"a":1}');
  assert.equal(put.status, 200);
  assert.equal(put.body, 'true');
  assert.equal(put.headers['x-consul-index'], undefined, 'writes carry no query meta');
  const res = await http.get('/v1/kv/meshlet/defaults');
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'application/json');
  const [entry] = res.json<Record<string, unknown>[]>();
  assert.deepEqual(Object.keys(entry ?? {}), ['LockIndex', 'Key', 'Flags', 'Value', 'CreateIndex', 'ModifyIndex']);
  assert.equal(entry?.Key, 'meshlet/defaults');
  assert.equal(entry?.Flags, 42);
  assert.equal(Buffer.from(String(entry?.Value), 'base64').toString(), '{"a":1}');
  assert.equal(res.index, entry?.ModifyIndex);
});

test('an identical rewrite moves no index; a plain put resets flags to 0', async (t) => {
  const { http } = await emulatorForTest(t);
  await http.put('/v1/kv/k?flags=3', 'v');
  const before = await http.get('/v1/kv/k');
  await http.put('/v1/kv/k?flags=3', 'v');
  const after = await http.get('/v1/kv/k');
  assert.equal(after.index, before.index);
  assert.equal((await http.get('/v1/kv/?recurse')).index, before.index);
  await http.put('/v1/kv/k', 'v');
  const reset = await http.get('/v1/kv/k');
  assert.equal(reset.json<{ Flags: number }[]>()[0]?.Flags, 0);
  assert.ok(reset.index > before.index, 'a flags change is a real change');
});

test('each key keeps its own ModifyIndex; recurse returns the highest under the prefix', async (t) => {
  const { http } = await emulatorForTest(t);
  await http.put('/v1/kv/p/a', '1');
  await http.put('/v1/kv/p/b', '2');
  await http.put('/v1/kv/q/c', '3');
  const a = await http.get('/v1/kv/p/a');
  const b = await http.get('/v1/kv/p/b');
  const c = await http.get('/v1/kv/q/c');
  assert.ok(a.index < b.index && b.index < c.index);
  const list = await http.get('/v1/kv/p/?recurse');
  assert.equal(list.index, b.index);
  assert.deepEqual(
    list.json<{ Key: string }[]>().map((e) => e.Key),
    ['p/a', 'p/b'],
  );
});

test('regression: deleting the newest key under a prefix does not make the list index slide backwards (tombstones)', async (t) => {
  const { http } = await emulatorForTest(t);
  await http.put('/v1/kv/p/a', '1');
  await http.put('/v1/kv/p/b', '2');
  const before = await http.get('/v1/kv/p/?recurse');
  assert.equal((await http.del('/v1/kv/p/b')).body, 'true');
  const after = await http.get('/v1/kv/p/?recurse');
  assert.ok(after.index > before.index, `list index ${after.index} must pass ${before.index}`);
  await http.del('/v1/kv/p/a');
  const empty = await http.get('/v1/kv/p/?recurse');
  assert.equal(empty.status, 404);
  assert.equal(empty.body, '');
  assert.ok(empty.index >= after.index);
});

test('cas on put: 0 creates only, N replaces only at ModifyIndex N', async (t) => {
  const { http } = await emulatorForTest(t);
  assert.equal((await http.put('/v1/kv/c?cas=0', 'one')).body, 'true');
  assert.equal((await http.put('/v1/kv/c?cas=0', 'two')).body, 'false');
  const index = (await http.get('/v1/kv/c')).index;
  assert.equal((await http.put(`/v1/kv/c?cas=${index + 100}`, 'two')).body, 'false');
  assert.equal((await http.put(`/v1/kv/c?cas=${index}`, 'two')).body, 'true');
  const value = (await http.get('/v1/kv/c?raw')).body;
  assert.equal(value, 'two');
  assert.equal((await http.put('/v1/kv/never?cas=5', 'x')).body, 'false');
});

test('cas on delete: wrong index keeps the key, a missing key counts as deleted', async (t) => {
  const { http } = await emulatorForTest(t);
  await http.put('/v1/kv/d', 'x');
  const index = (await http.get('/v1/kv/d')).index;
  assert.equal((await http.del('/v1/kv/d?cas=0')).body, 'false');
  assert.equal((await http.get('/v1/kv/d')).status, 200);
  assert.equal((await http.del(`/v1/kv/d?cas=${index}`)).body, 'true');
  assert.equal((await http.get('/v1/kv/d')).status, 404);
  assert.equal((await http.del('/v1/kv/d?cas=7')).body, 'true');
});

test('delete recurse removes the whole prefix; conflicting and missing-key requests are 400', async (t) => {
  const { http } = await emulatorForTest(t);
  await http.put('/v1/kv/t/a', '1');
  await http.put('/v1/kv/t/b/c', '2');
  await http.put('/v1/kv/u', '3');
  assert.equal((await http.del('/v1/kv/t/?recurse')).body, 'true');
  assert.equal((await http.get('/v1/kv/t/?recurse')).status, 404);
  assert.equal((await http.get('/v1/kv/u')).status, 200);
  const conflict = await http.del('/v1/kv/u?recurse&cas=1');
  assert.equal(conflict.status, 400);
  assert.match(conflict.body, /^Conflicting flags: recurse&cas=1/);
  const missing = await http.get('/v1/kv/');
  assert.equal(missing.status, 400);
  assert.equal(missing.body, 'Missing key name');
  assert.equal((await http.put('/v1/kv/', 'x')).status, 400);
  assert.equal((await http.put('/v1/kv/x?cas=1&acquire=s', 'x')).status, 400);
});

test('raw returns the bytes as inert text; recurse ignores raw', async (t) => {
  const { http } = await emulatorForTest(t);
  await http.put('/v1/kv/r', '<b>hi</b>');
  const raw = await http.get('/v1/kv/r?raw');
  assert.equal(raw.body, '<b>hi</b>');
  assert.equal(raw.headers['content-type'], 'text/plain');
  assert.equal(raw.headers['x-content-type-options'], 'nosniff');
  assert.equal(raw.headers['content-security-policy'], 'sandbox');
  assert.ok(raw.index >= 1);
  const list = await http.get('/v1/kv/r?recurse&raw');
  assert.equal(list.headers['content-type'], 'application/json');
  assert.equal(list.json<unknown[]>().length, 1);
});

test('an empty value is stored as null', async (t) => {
  const { http } = await emulatorForTest(t);
  await http.put('/v1/kv/empty', '');
  assert.equal((await http.get('/v1/kv/empty')).json<{ Value: unknown }[]>()[0]?.Value, null);
});

test('keys lists keys, cut after the separator; an empty prefix with no keys is [] and a prefix is 404', async (t) => {
  const { http } = await emulatorForTest(t);
  assert.deepEqual((await http.get('/v1/kv/?keys')).json(), []);
  assert.equal((await http.get('/v1/kv/a?keys')).status, 404);
  for (const key of ['a/x/1', 'a/y/2', 'a/z/3', 'a/z/4', 'b']) await http.put(`/v1/kv/${key}`, 'v');
  assert.deepEqual((await http.get('/v1/kv/a?keys')).json(), ['a/x/1', 'a/y/2', 'a/z/3', 'a/z/4']);
  assert.deepEqual((await http.get('/v1/kv/a/?keys&separator=/')).json(), ['a/x/', 'a/y/', 'a/z/']);
  assert.equal((await http.get('/v1/kv/?keys')).json<string[]>().length, 5);
});

test('direct helpers write like HTTP writes (indexes move, blocked readers see them)', async (t) => {
  const { consul, http } = await emulatorForTest(t);
  await consul.kv.put('h/k', 'v1', 7);
  const first = await http.get('/v1/kv/h/k');
  assert.equal(first.json<{ Flags: number }[]>()[0]?.Flags, 7);
  assert.deepEqual(await consul.kv.get('h/k'), { key: 'h/k', value: 'v1', flags: 7, createIndex: first.index, modifyIndex: first.index });
  await consul.kv.delete('h/k');
  assert.equal(await consul.kv.get('h/k'), undefined);
  assert.ok((await http.get('/v1/kv/h/k')).index > first.index);
});
