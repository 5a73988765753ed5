/**
 * node-consul's acceptance scenarios (silas/node-consul 3e81b54 "Release 2.0.1",
 * test/acceptance/{kv,watch,health,agent}.js), written there against a real Consul agent,
 * re-expressed here as the HTTP requests node-consul sends (same paths and query strings:
 * `recurse=true`, `raw=true`, `keys=true`, `index`/`wait`) with the same expectations. The
 * `consul` package itself is not used. Each test names the scenario it ports.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { ConsulEmulator, } from '../support/consul-emulator/index.ts';
import { type consulHttp, type WireResponse, waitFor } from '../support/consul-emulator/wire-client.ts';
import { emulatorForTest } from './emulator-for-test.ts';

type Http = ReturnType<typeof consulHttp>;
interface DirEntry {
  CreateIndex: number;
  ModifyIndex: number;
  LockIndex: number;
  Key: string;
  Flags: number;
  Value: string | null;
}

const DIR_ENTRY_KEYS = ['CreateIndex', 'Flags', 'Key', 'LockIndex', 'ModifyIndex', 'Value'];

/** node-consul's kv.get: 404 → undefined, else the first entry with Value base64-decoded. */
function kvGetResult(res: WireResponse): DirEntry | undefined {
  if (res.status === 404) return undefined;
  assert.equal(res.status, 200);
  const entry = res.json<DirEntry[]>()[0];
  return entry && { ...entry, Value: entry.Value === null ? null : Buffer.from(entry.Value, 'base64').toString() };
}

/** kv.js beforeEach: delete everything, then set hello=world. */
async function kvSetup(t: { after(fn: () => Promise<void>): void }): Promise<{ consul: ConsulEmulator; http: Http }> {
  const { consul, http } = await emulatorForTest(t);
  await http.del('/v1/kv/?recurse=true');
  assert.equal((await http.put('/v1/kv/hello', 'world')).body, 'true');
  return { consul, http };
}

test('kv.js get "should return one kv pair"', async (t) => {
  const { http } = await kvSetup(t);
  const data = kvGetResult(await http.get('/v1/kv/hello'));
  assert.deepEqual(Object.keys(data ?? {}).sort(), DIR_ENTRY_KEYS);
  assert.equal(data?.Key, 'hello');
  assert.equal(data?.Flags, 0);
  assert.equal(data?.Value, 'world');
});

test('kv.js get "should return raw value"', async (t) => {
  const { http } = await kvSetup(t);
  assert.equal((await http.get('/v1/kv/hello?raw=true')).body, 'world');
});

test('kv.js get "should return no kv pair"', async (t) => {
  const { http } = await kvSetup(t);
  assert.equal(kvGetResult(await http.get('/v1/kv/none')), undefined);
});

test('kv.js get "should return list of kv pairs"', async (t) => {
  const { http } = await kvSetup(t);
  const data = (await http.get('/v1/kv/?recurse=true')).json<DirEntry[]>();
  assert.equal(data.length, 1);
  assert.deepEqual(Object.keys(data[0] ?? {}).sort(), DIR_ENTRY_KEYS);
  assert.equal(data[0]?.Key, 'hello');
  assert.equal(data[0]?.Flags, 0);
  assert.equal(Buffer.from(String(data[0]?.Value), 'base64').toString(), 'world');
});

test('kv.js get "should wait for update"', async (t) => {
  const { http } = await kvSetup(t);
  const get = kvGetResult(await http.get('/v1/kv/hello'));
  const waiting = http.get(`/v1/kv/hello?index=${get?.ModifyIndex}&wait=3s`);
  await http.put('/v1/kv/hello', 'new-value');
  assert.equal(kvGetResult(await waiting)?.Value, 'new-value');
});

test('kv.js keys "should return keys", "with separator", "all keys"', async (t) => {
  const { http } = await kvSetup(t);
  const keys = ['a/x/1', 'a/y/2', 'a/z/3'];
  await Promise.all(keys.map((key) => http.put(`/v1/kv/${key}`, 'value')));
  assert.deepEqual((await http.get('/v1/kv/a?keys=true')).json(), keys);
  assert.deepEqual(
    (await http.get('/v1/kv/a/?keys=true&separator=/')).json(),
    keys.map((k) => k.slice(0, 4)),
  );
  assert.equal((await http.get('/v1/kv/?keys=true')).json<string[]>().length, 4);
});

test('kv.js set "should create kv pair" and "with null value"', async (t) => {
  const { http } = await kvSetup(t);
  assert.equal((await http.put('/v1/kv/one', 'two')).body, 'true');
  const data = kvGetResult(await http.get('/v1/kv/one'));
  assert.deepEqual(Object.keys(data ?? {}).sort(), DIR_ENTRY_KEYS);
  assert.equal(data?.Value, 'two');
  // node-consul sends `value || ""` for null.
  assert.equal((await http.put('/v1/kv/one', '')).body, 'true');
  assert.equal(kvGetResult(await http.get('/v1/kv/one'))?.Value, null);
});

test('kv.js del "should delete kv pair"', async (t) => {
  const { http } = await kvSetup(t);
  assert.equal((await http.del('/v1/kv/hello')).body, 'true');
  assert.equal(kvGetResult(await http.get('/v1/kv/hello')), undefined);
});

/**
 * node-consul's watch loop (lib/watch.js), reduced to its index rules: first request index=0;
 * change when the index moves up; reset to 0 (and change) when it goes back; end on a 400.
 */
function watchKv(http: Http, key: string, wait: string) {
  const changes: (string | null | undefined)[] = [];
  const errors: number[] = [];
  let index = 0n;
  let ended = false;
  const run = async (): Promise<void> => {
    while (!ended) {
      const res = await http.get(`/v1/kv/${key}?index=${index}&wait=${wait}`);
      if (res.status >= 400 && res.status !== 404) {
        errors.push(res.status);
        if (res.status === 400) ended = true; // node-consul ends the watch on a 400 (issue #155)
        continue;
      }
      const next = BigInt(res.headers['x-consul-index'] ?? '0');
      if (next < index) index = 0n;
      else if (next === index) continue;
      else index = next;
      changes.push(kvGetResult(res)?.Value);
    }
  };
  const done = run();
  return {
    changes,
    errors,
    get ended() {
      return ended;
    },
    end: async () => {
      ended = true;
      await done.catch(() => {});
    },
  };
}

test('watch.js "should work": values [undefined, "1", "2", "3", undefined] for set ×3 + delete on a fresh key', async (t) => {
  const { http } = await emulatorForTest(t);
  // The scenario uses wait "1ms"; 200ms keeps the same shape without spinning (each round still ends on a change).
  const watch = watchKv(http, 'test', '200ms');
  t.after(() => watch.end());
  await waitFor(() => watch.changes.length === 1);
  // Each write waits for the watch to see the previous one (the scenario relies on a fast watch to the same end).
  for (const [i, write] of [() => http.put('/v1/kv/test', '1'), () => http.put('/v1/kv/test', '2'), () => http.put('/v1/kv/test', '3'), () => http.del('/v1/kv/test')].entries()) {
    await write();
    await waitFor(() => watch.changes.length === i + 2);
  }
  assert.deepEqual(watch.changes, [undefined, '1', '2', '3', undefined]);
  assert.deepEqual(watch.errors, []);
});

test('watch.js "should not retry on 400 errors": a watch on kv.get without a key gets 400 once and ends', async (t) => {
  const { http } = await emulatorForTest(t);
  const res = await http.get('/v1/kv/?index=0&wait=30s');
  assert.equal(res.status, 400);
  assert.equal(res.body, 'Missing key name');
  const watch = watchKv(http, '', '30s');
  await waitFor(() => watch.ended);
  assert.deepEqual(watch.errors, [400]);
});

/** health.js before: register a service with a 60s TTL check. */
async function healthSetup(t: { after(fn: () => Promise<void>): void }) {
  const { http } = await emulatorForTest(t);
  const service = `service-${randomUUID()}`;
  assert.equal((await http.put('/v1/agent/service/register', { Name: service, Check: { TTL: '60s' } })).status, 200);
  return { http, service };
}

test('health.js service "should return health information for given service"', async (t) => {
  const { http, service } = await healthSetup(t);
  const data = (await http.get(`/v1/health/service/${service}`)).json<Record<string, Record<string, unknown>>[]>();
  assert.ok(data[0] !== undefined);
  for (const key of ['Node', 'Service', 'Checks']) assert.ok(key in data[0], key);
  // The scenario's agent is named node1; the emulator's node is `emulator`, on the same address.
  assert.equal(data[0].Node?.Address, '127.0.0.1');
  for (const key of ['ID', 'Service', 'Tags']) assert.ok(key in (data[0].Service ?? {}), key);
  assert.equal(data[0].Service?.ID, service);
  assert.equal(data[0].Service?.Service, service);
  const checks = (data[0].Checks as unknown as { CheckID: string }[]).map((c) => c.CheckID).sort();
  assert.deepEqual(checks, ['serfHealth', `service:${service}`]);
});

test('agent.js service register/list/deregister "should create service", "should return agent services", "should remove service"', async (t) => {
  const { http } = await emulatorForTest(t);
  const name = `service-${randomUUID()}`;
  const exists = async (id: string) => id in (await http.get('/v1/agent/services')).json<Record<string, unknown>>();
  assert.equal(await exists(name), false);
  await http.put('/v1/agent/service/register', { Name: name });
  assert.equal(await exists(name), true);
  await http.put(`/v1/agent/service/deregister/${name}`);
  assert.equal(await exists(name), false);
});

test('agent.js service register "should create service with http check" (Notes kept on the check)', async (t) => {
  const { consul, http } = await emulatorForTest(t);
  const name = `service-${randomUUID()}`;
  await http.put('/v1/agent/service/register', {
    Name: name,
    Check: { HTTP: `${consul.url}`, Interval: '30s', Notes: 'simple http check' },
  });
  const checks = (await http.get('/v1/agent/checks')).json<Record<string, { Notes: string }>>();
  assert.equal(checks[`service:${name}`]?.Notes, 'simple http check');
});

test('agent.js check pass/warn/fail "should mark check as passing / warning / critical" (on a service TTL check)', async (t) => {
  // The scenario registers a standalone check (/v1/agent/check/register, not emulated); the
  // same TTL transitions are checked on a service's TTL check.
  const { http } = await emulatorForTest(t);
  const name = `check-${randomUUID()}`;
  await http.put('/v1/agent/service/register', { Name: name, Check: { CheckID: name, TTL: '10s' } });
  const state = async () => (await http.get('/v1/agent/checks')).json<Record<string, { Status: string }>>()[name]?.Status;
  assert.equal(await state(), 'critical');
  await http.put(`/v1/agent/check/pass/${name}`);
  assert.equal(await state(), 'passing');
  await http.put(`/v1/agent/check/warn/${name}`);
  assert.equal(await state(), 'warning');
  await http.put(`/v1/agent/check/fail/${name}`);
  assert.equal(await state(), 'critical');
});
