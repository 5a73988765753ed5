/**
 * The client and the watch against Consul's semantics, as the emulator implements them (and a
 * real agent, with CONSUL_HTTP_ADDR set: tests needing fault hooks or ACL set-up skip there):
 * KV round trips with cas and 404s, a blocking read woken by a write, registration through
 * health, and the watch through a snapshot restore, index 0, a failure storm and a hang.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlockingWatch } from '../../src/consul/blocking-watch.ts';
import { ConsulClient, type KvEntry } from '../../src/consul/client.ts';
import type { MeshError } from '../../src/core/errors.ts';
import { consulForTests, emulatorOnly, type TestConsul } from '../support/consul.ts';
import { expectMeshError } from '../support/mesh-error.ts';
import { consulTeardown } from './teardown.ts';
import { eventually, sleep } from '../support/waits.ts';

/** A prefix of its own per test, so a real agent's other keys and earlier runs do not interfere. */
let prefixes = 0;
const prefix = (): string => `meshlet-test-${process.pid}-${++prefixes}`;

const text = (entry: KvEntry | undefined): string | undefined => entry?.value?.toString('utf8');

describe('ConsulClient against the emulator', () => {
  const teardown = consulTeardown();
  const agent = async (options: Parameters<typeof consulForTests>[0] = {}): Promise<{ consul: TestConsul; client: ConsulClient }> => {
    const consul = await consulForTests(options);
    teardown.agent(consul);
    const client = new ConsulClient({ url: consul.url, ...(consul.token === undefined ? {} : { token: consul.token }), requestTimeoutMs: 1000 });
    teardown.client(client);
    return { consul, client };
  };

  it('KV round trip: put, get, list, cas (stale loses, current wins, 0 = create only), delete with cas, 404s', async () => {
    const { consul, client } = await agent();
    const p = prefix();
    assert.equal((await client.kvGet(`${p}/a`)).value, undefined, 'a missing key is undefined');
    assert.deepEqual((await client.kvList(`${p}/`)).value, [], 'a missing prefix is []');
    assert.equal(await client.kvPut(`${p}/a`, 'one', { flags: 42 }), true);
    const first = (await client.kvGet(`${p}/a`)).value;
    assert.equal(text(first), 'one');
    assert.equal(first?.flags, 42);
    assert.equal(await client.kvPut(`${p}/a`, 'again', { cas: 0n }), false, 'cas 0 on an existing key');
    assert.equal(await client.kvPut(`${p}/a`, 'two', { cas: first!.modifyIndex }), true, 'cas with the current ModifyIndex');
    assert.equal(await client.kvPut(`${p}/a`, 'three', { cas: first!.modifyIndex }), false, 'cas with a stale ModifyIndex');
    assert.equal(await client.kvPut(`${p}/b`, Buffer.from([0xff, 0])), true);
    const listed = await client.kvList(`${p}/`);
    assert.deepEqual(listed.value.map((e) => [e.key, e.value]), [
      [`${p}/a`, Buffer.from('two')],
      [`${p}/b`, Buffer.from([0xff, 0])],
    ]);
    assert.ok(listed.index >= listed.value[1]!.modifyIndex, 'the list index covers its entries');
    assert.equal((await consul.kv.get(`${p}/a`))?.value, 'two', 'what the client wrote is what the agent holds');
    const current = (await client.kvGet(`${p}/a`)).value!;
    assert.equal(await client.kvDelete(`${p}/a`, { cas: current.modifyIndex - 1n }), false, 'delete with a stale cas');
    assert.equal(await client.kvDelete(`${p}/a`, { cas: current.modifyIndex }), true);
    assert.equal(await client.kvDelete(`${p}/`, { recurse: true }), true);
    assert.deepEqual((await client.kvList(`${p}/`)).value, []);
  });

  it('a blocking read is woken by a write and returns the new value and a higher index', async () => {
    const { consul, client } = await agent();
    const p = prefix();
    await consul.kv.put(`${p}/k`, 'v1');
    const now = await client.kvList(`${p}/`);
    const started = performance.now();
    const pending = client.kvList(`${p}/`, { index: now.index, wait: '10s' });
    await sleep(150);
    await consul.kv.put(`${p}/k`, 'v2');
    const woken = await pending;
    const took = performance.now() - started;
    assert.ok(woken.index > now.index);
    assert.equal(text(woken.value[0]), 'v2');
    assert.ok(took >= 140 && took < 2000, `woke after ${took} ms`);
  });

  it('register with a TTL check → critical until passed → in ?passing health → deregistered', async () => {
    const { client } = await agent();
    const name = prefix();
    await client.registerService({ Name: name, ID: `${name}-1`, Address: '127.0.0.1', Port: 9100, Tags: ['v2'], Meta: { zone: 'a' }, Check: { CheckID: `${name}-ttl`, TTL: '30s' } });
    try {
      const all = await client.healthService(name);
      assert.equal(all.value.length, 1);
      assert.equal(all.value[0]?.Service.Port, 9100);
      assert.deepEqual((await client.healthService(name, { passing: true })).value, [], 'a new TTL check starts critical');
      await client.updateTtlCheck(`${name}-ttl`, 'pass', 'ready');
      const passing = await client.healthService(name, { passing: true, tags: ['v2'] });
      assert.deepEqual(passing.value.map((e) => [e.Service.ID, e.Service.Meta?.zone]), [[`${name}-1`, 'a']]);
      assert.ok(Object.hasOwn((await client.catalogServices()).value, name));
    } finally {
      await client.deregisterService(`${name}-1`);
    }
    assert.deepEqual((await client.healthService(name)).value, []);
  });

  it('a missing config entry is undefined', async () => {
    const { client } = await agent();
    assert.equal((await client.configEntry('service-router', prefix())).value, undefined);
  });

  it('a bad ACL token: MeshError naming the 403, the token nowhere in its message or cause chain', async (t) => {
    const secret = 'c0ffee00-dead-beef-0000-secret-token';
    const consul = await consulForTests({ acl: { defaultPolicy: 'deny', tokens: { 'good-one': { policy: 'write' } } } });
    teardown.agent(consul);
    if (emulatorOnly(t, consul) === undefined) return;
    const client = new ConsulClient({ url: consul.url, token: secret });
    teardown.client(client);
    const error = await expectMeshError(client.kvList('meshlet/'), 'MESH_CONSUL_FAILED');
    assert.equal(error.status, 403);
    assert.match(error.message, /refused GET \/v1\/kv\/meshlet\/\?recurse with 403 \(ACL not found\): the ACL token is unknown/);
    for (let e: unknown = error; e !== undefined; e = (e as Error).cause) assert.ok(!String((e as Error).message).includes(secret));
    const anonymous = new ConsulClient({ url: consul.url });
    teardown.client(anonymous);
    const denied = await expectMeshError(anonymous.kvPut('meshlet/x', 'v'), 'MESH_CONSUL_FAILED');
    assert.equal(denied.status, 403);
    assert.match(denied.message, /Permission denied.*no ACL token was sent/);
  });
});

describe('BlockingWatch against the emulator', () => {
  const teardown = consulTeardown();

  async function watching(options: { wait?: string; minIntervalMs?: number; requestTimeoutMs?: number } = {}) {
    const consul = await consulForTests();
    teardown.agent(consul);
    const client = new ConsulClient({ url: consul.url, ...(consul.token === undefined ? {} : { token: consul.token }), requestTimeoutMs: options.requestTimeoutMs ?? 1000 });
    teardown.client(client);
    const p = prefix();
    const changes: { values: string[]; index: bigint }[] = [];
    const errors: MeshError[] = [];
    const watch = new BlockingWatch<KvEntry[]>({
      what: `kv ${p}/`,
      query: (index, wait, signal) => client.kvList(`${p}/`, { index, wait, signal }),
      wait: options.wait ?? '5s',
      onChange: (value, index) => changes.push({ values: value.map((e) => e.value?.toString() ?? ''), index }),
      onError: (error) => errors.push(error),
      ...(options.minIntervalMs === undefined ? {} : { minIntervalMs: options.minIntervalMs }),
    });
    teardown.watch(watch);
    return { consul, client, p, watch, changes, errors };
  }

  it('delivers the current value at start, then each write, promptly', async () => {
    const { consul, p, watch, changes } = await watching();
    await consul.kv.put(`${p}/k`, 'v1');
    await watch.start();
    assert.deepEqual(changes.map((c) => c.values), [['v1']]);
    for (const value of ['v2', 'v3']) {
      const before = performance.now();
      await consul.kv.put(`${p}/k`, value);
      await eventually(() => changes.at(-1)?.values[0] === value, value);
      assert.ok(performance.now() - before < 500, `${value} took ${performance.now() - before} ms`);
    }
    await watch.stop();
  });

  it('a snapshot restore (every index goes backwards) resets the index and delivers the restored data', async (t) => {
    const { consul, p, watch, changes } = await watching();
    const emulator = emulatorOnly(t, consul);
    if (emulator === undefined) return;
    await consul.kv.put(`${p}/k`, 'before');
    await watch.start();
    const high = watch.index;
    await eventually(() => emulator.openBlockingQueries === 1, 'the parked query');
    emulator.faults.restoreSnapshot();
    await eventually(() => changes.length === 2, 'the delivery after the reset');
    assert.ok(changes[1]!.index < high, `index went from ${high} to ${changes[1]!.index}`);
    const indexes = emulator.requests.filter((r) => r.path.startsWith('/v1/kv/')).map((r) => new URLSearchParams(r.query).get('index'));
    assert.deepEqual(indexes.slice(indexes.indexOf(String(high)), indexes.indexOf(String(high)) + 2), [String(high), null], `after the backwards answer a plain read (index 0): ${indexes}`);
    // The watch goes on from the restored index: a write after the restore is seen.
    await consul.kv.put(`${p}/k`, 'after');
    await eventually(() => changes.at(-1)?.values[0] === 'after', 'the write after the restore');
    await watch.stop();
  });

  it('regression: index 0 from the agent does not busy-loop (counted over 1 s)', async (t) => {
    const { consul, watch } = await watching({ minIntervalMs: 100 });
    const emulator = emulatorOnly(t, consul);
    if (emulator === undefined) return;
    emulator.faults.zeroIndex(true);
    await watch.start();
    const before = emulator.requests.length;
    await sleep(1000);
    const rounds = emulator.requests.length - before;
    await watch.stop();
    assert.ok(rounds <= 14, `${rounds} rounds in 1 s (one per 100 ms after a burst of 3)`);
    assert.equal(watch.index, 1n);
  });

  it('a 500/429 storm backs off with growing jittered delays, then the watch recovers', async (t) => {
    const { consul, p, watch, changes, errors } = await watching({ minIntervalMs: 1 });
    const emulator = emulatorOnly(t, consul);
    if (emulator === undefined) return;
    for (let i = 0; i < 3; i++) {
      emulator.faults.failNext(1, 500, 'No cluster leader');
      emulator.faults.failNext(1, 429);
    }
    await consul.kv.put(`${p}/k`, 'back');
    const started = performance.now();
    await watch.start();
    await eventually(() => changes.length === 1, 'recovery', 20_000);
    const took = performance.now() - started;
    await watch.stop();
    assert.deepEqual(errors.map((e) => e.status), [500, 429, 500, 429, 500, 429]);
    const rounds = emulator.requests.length;
    assert.ok(rounds === 7 || rounds === 8, `${rounds} rounds: six failed, the one that succeeded, and at most the next (parked) one`);
    // Five retries with full jitter under 100, 200, 400, 800, 1600 ms: an expected 1.55 s. Without
    // a backoff (the rate limit here allows a round per ms) they would take a few ms.
    assert.ok(took > 100, `recovered after ${took} ms`);
  });

  it('a hung request is cut by the timeout and retried; stop() mid-request ends it promptly', async (t) => {
    const { consul, p, watch, changes, errors } = await watching({ wait: '500ms', requestTimeoutMs: 300 });
    const emulator = emulatorOnly(t, consul);
    if (emulator === undefined) return;
    await consul.kv.put(`${p}/k`, 'v1');
    await watch.start();
    emulator.faults.hangNext(1);
    await eventually(() => errors.length === 1, 'the cut', 5000);
    assert.match(errors[0]!.message, /did not answer .* within 832 ms/);
    await consul.kv.put(`${p}/k`, 'v2');
    await eventually(() => changes.at(-1)?.values[0] === 'v2', 'the retried round', 10_000);
    await eventually(() => emulator.openBlockingQueries === 1, 'the next parked query');
    const stopping = performance.now();
    await watch.stop();
    assert.ok(performance.now() - stopping < 300);
    await eventually(() => emulator.openBlockingQueries === 0, 'the agent to see it closed');
  });
});
