/**
 * Blocking queries (CONSUL.md §0.2): index 0 or absent answers at once; index N parks until the
 * index passes N or wait elapses (then the current, unmoved index); bad wait/index are 400;
 * a parked query on a missing key wakes when the key is created; a restore wakes it at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGoDuration } from '../support/consul-emulator/go-duration.ts';
import { waitFor } from '../support/consul-emulator/wire-client.ts';
import { emulatorForTest } from './emulator-for-test.ts';

test('Go durations parse as time.ParseDuration does; a unitless number is invalid', () => {
  assert.equal(parseGoDuration('10s'), 10_000);
  assert.equal(parseGoDuration('5m'), 300_000);
  assert.equal(parseGoDuration('120000ms'), 120_000);
  assert.equal(parseGoDuration('1h30m'), 5_400_000);
  assert.equal(parseGoDuration('1.5s'), 1500);
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('30'), undefined);
  assert.equal(parseGoDuration('s'), undefined);
  assert.equal(parseGoDuration(''), undefined);
  assert.equal(parseGoDuration('5 s'), undefined);
});

test('without index (or index=0) a read answers at once even with wait', async (t) => {
  const { http } = await emulatorForTest(t);
  await http.put('/v1/kv/k', 'v');
  const started = performance.now();
  assert.equal((await http.get('/v1/kv/k?wait=5s')).status, 200);
  assert.equal((await http.get('/v1/kv/k?index=0&wait=5s')).status, 200);
  assert.ok(performance.now() - started < 1000);
});

test('index=N parks until the key changes, then returns the new index and value', async (t) => {
  const { consul, http } = await emulatorForTest(t);
  await http.put('/v1/kv/k', 'v1');
  const { index } = await http.get('/v1/kv/k');
  const parked = http.get(`/v1/kv/k?index=${index}&wait=5s`);
  await waitFor(() => consul.openBlockingQueries === 1);
  await http.put('/v1/kv/k', 'v2');
  const res = await parked;
  assert.ok(res.index > index);
  assert.equal(Buffer.from(String(res.json<{ Value: string }[]>()[0]?.Value), 'base64').toString(), 'v2');
  assert.equal(consul.openBlockingQueries, 0);
});

test('a parked read returns on wait with the unchanged index; writes elsewhere and identical rewrites do not wake it early', async (t) => {
  const { http } = await emulatorForTest(t);
  await http.put('/v1/kv/k', 'v');
  const { index } = await http.get('/v1/kv/k');
  const started = performance.now();
  const parked = http.get(`/v1/kv/k?index=${index}&wait=300ms`);
  await http.put('/v1/kv/other', 'x');
  await http.put('/v1/kv/k', 'v');
  const res = await parked;
  const elapsed = performance.now() - started;
  assert.equal(res.status, 200);
  assert.equal(res.index, index);
  assert.ok(elapsed >= 290, `returned after ${elapsed} ms, before wait elapsed`);
});

test('a parked read of a missing key wakes when the key is created', async (t) => {
  const { consul, http } = await emulatorForTest(t);
  const missing = await http.get('/v1/kv/later');
  assert.equal(missing.status, 404);
  const parked = http.get(`/v1/kv/later?index=${missing.index}&wait=5s`);
  await waitFor(() => consul.openBlockingQueries === 1);
  await consul.kv.put('later', 'here');
  const res = await parked;
  assert.equal(res.status, 200);
  assert.ok(res.index > missing.index);
});

test('a recursive read parks until something under the prefix changes, deletes included', async (t) => {
  const { consul, http } = await emulatorForTest(t);
  await http.put('/v1/kv/cfg/a', '1');
  const { index } = await http.get('/v1/kv/cfg/?recurse');
  const parked = http.get(`/v1/kv/cfg/?recurse&index=${index}&wait=5s`);
  await waitFor(() => consul.openBlockingQueries === 1);
  await http.del('/v1/kv/cfg/a');
  const res = await parked;
  assert.equal(res.status, 404);
  assert.ok(res.index > index);
});

test('bad wait is 400 Invalid wait time; bad index is 400 Invalid index', async (t) => {
  const { http } = await emulatorForTest(t);
  for (const wait of ['30', 'soon', '1x']) {
    const res = await http.get(`/v1/kv/k?index=1&wait=${wait}`);
    assert.equal(res.status, 400);
    assert.equal(res.body, 'Invalid wait time');
  }
  for (const index of ['-1', 'abc', '1.5', '18446744073709551616']) {
    const res = await http.get(`/v1/kv/k?index=${index}`);
    assert.equal(res.status, 400);
    assert.equal(res.body, 'Invalid index');
  }
});

test('stale and consistent are presence-based; together they are 400', async (t) => {
  const { http } = await emulatorForTest(t);
  assert.equal((await http.get('/v1/kv/?recurse&stale=false')).headers['x-consul-effective-consistency'], 'stale');
  assert.equal((await http.get('/v1/kv/?recurse&consistent')).headers['x-consul-effective-consistency'], 'consistent');
  assert.equal((await http.get('/v1/kv/?recurse')).headers['x-consul-effective-consistency'], 'leader');
  const conflict = await http.get('/v1/kv/?recurse&stale&consistent');
  assert.equal(conflict.status, 400);
  assert.equal(conflict.body, 'Cannot specify ?stale with ?consistent, conflicting semantics.');
});

test('a client index above the server index parks until wait and then returns the lower current index', async (t) => {
  const { http } = await emulatorForTest(t);
  await http.put('/v1/kv/k', 'v');
  const { index } = await http.get('/v1/kv/k');
  const res = await http.get(`/v1/kv/k?index=${index + 1000}&wait=200ms`);
  assert.equal(res.index, index);
});

test('restoreSnapshot: every index goes backwards and parked reads return at once with the lower index', async (t) => {
  const { consul, http } = await emulatorForTest(t);
  await http.put('/v1/kv/k', 'v');
  await http.put('/v1/kv/j', 'w');
  const { index } = await http.get('/v1/kv/j');
  const started = performance.now();
  const parked = http.get(`/v1/kv/j?index=${index}&wait=5s`);
  await waitFor(() => consul.openBlockingQueries === 1);
  consul.faults.restoreSnapshot();
  const res = await parked;
  assert.ok(performance.now() - started < 2000);
  assert.ok(res.index < index, `index ${res.index} must be below ${index}`);
  assert.ok((await http.get('/v1/kv/?recurse')).index < index);
});

test('zeroIndex: reads carry X-Consul-Index: 0 while on', async (t) => {
  const { consul, http } = await emulatorForTest(t);
  consul.faults.zeroIndex(true);
  assert.equal((await http.get('/v1/kv/k')).headers['x-consul-index'], '0');
  assert.equal((await http.get('/v1/health/service/x')).headers['x-consul-index'], '0');
  consul.faults.zeroIndex(false);
  assert.ok((await http.get('/v1/kv/k')).index >= 1);
});

test('jitter adds up to wait/16 when enabled (here the largest draw)', async (t) => {
  const { http } = await emulatorForTest(t, { jitter: () => 0.999 });
  const { index } = await http.get('/v1/kv/k');
  const started = performance.now();
  await http.get(`/v1/kv/k?index=${index}&wait=320ms`);
  const elapsed = performance.now() - started;
  // 320 ms + 0.999 × 320/16 ≈ 340 ms; without jitter it would be 320 ms.
  assert.ok(elapsed >= 335, `waited ${elapsed} ms, less than wait + jitter`);
  assert.ok(elapsed < 2000, `waited ${elapsed} ms`);
});
