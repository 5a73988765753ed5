/**
 * The one blocking-watch loop, against a scripted agent that produces the index sequences,
 * failures and hangs of Consul's blocking-query rules (BLKDOC; ../shared/CONSUL.md §0.2)
 * exactly, and counts the rounds the watch sends.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlockingWatch, type BlockingWatchOptions, openBlockingQueries } from '../../src/consul/blocking-watch.ts';
import { ConsulClient, type KvEntry } from '../../src/consul/client.ts';
import type { MeshError } from '../../src/core/errors.ts';
import { json, type ScriptedAgent, type ScriptedRequest, startScriptedAgent, text } from './scripted-agent.ts';
import { consulTeardown } from './teardown.ts';
import { eventually, sleep } from '../support/waits.ts';

function entry(value: string): unknown {
  return { LockIndex: 0, Key: 'p/k', Flags: 0, Value: Buffer.from(value).toString('base64'), CreateIndex: 1, ModifyIndex: 1 };
}

/** The index a round blocked on; 0 for a plain read. */
function sentIndex(request: ScriptedRequest | undefined): number {
  return Number(request?.query.get('index') ?? 0);
}

interface Watched {
  readonly watch: BlockingWatch<KvEntry[]>;
  readonly changes: { value: string; index: bigint }[];
  readonly errors: MeshError[];
}

describe('BlockingWatch', () => {
  const teardown = consulTeardown();

  async function watched(
    script: Parameters<ScriptedAgent['answer']>[0],
    options: Partial<BlockingWatchOptions<KvEntry[]>> = {},
    requestTimeoutMs = 2000,
  ): Promise<Watched & { agent: ScriptedAgent; client: ConsulClient }> {
    const agent = await startScriptedAgent(script);
    const client = new ConsulClient({ url: agent.url, requestTimeoutMs });
    teardown.agent(agent);
    teardown.client(client);
    const changes: { value: string; index: bigint }[] = [];
    const errors: MeshError[] = [];
    const watch = new BlockingWatch<KvEntry[]>({
      what: 'kv p/',
      query: (index, wait, signal) => client.kvList('p/', { index, wait, signal }),
      wait: '2s',
      onChange: (value, index) => changes.push({ value: value.map((e) => e.value?.toString()).join(','), index }),
      onError: (error) => errors.push(error),
      ...options,
    });
    teardown.watch(watch);
    return { agent, client, watch, changes, errors };
  }

  it('starts with a plain read (index 0), then blocks on the index; delivers only when the index moved', async () => {
    let round = 0;
    const answers: [string, number][] = [['a', 5], ['a', 5], ['b', 9]];
    const { agent, watch, changes } = await watched((_req, res) => {
      const answer = answers[round++];
      if (answer === undefined) return; // park (a blocking query with nothing new)
      json(res, [entry(answer[0])], answer[1]);
    });
    await watch.start();
    assert.deepEqual(changes, [{ value: 'a', index: 5n }], 'start() resolves once the first result was delivered');
    await eventually(() => agent.requests.length === 4, 'the fourth round');
    assert.deepEqual(agent.requests.map(sentIndex), [0, 5, 5, 9]);
    assert.equal(agent.requests[1]?.query.get('wait'), '2s');
    assert.equal(agent.requests[0]?.query.get('wait'), null, 'no wait without an index');
    assert.deepEqual(changes, [{ value: 'a', index: 5n }, { value: 'b', index: 9n }], 'the same index twice (a wait timeout) is no change');
    assert.equal(watch.index, 9n);
    await watch.stop();
  });

  it('an index that goes backwards (snapshot restore) resets to 0 and delivers the fresh read', async () => {
    const answers: [string, number][] = [['old', 100], ['restored', 40], ['restored', 40], ['next', 41]];
    let round = 0;
    const { agent, watch, changes } = await watched((_req, res) => {
      const answer = answers[round++];
      if (answer !== undefined) json(res, [entry(answer[0])], answer[1]);
    });
    await watch.start();
    await eventually(() => agent.requests.length === 5, 'the fifth round');
    assert.deepEqual(agent.requests.map(sentIndex), [0, 100, 0, 40, 41], 'after the backwards answer the next round is a plain read');
    assert.deepEqual(changes, [
      { value: 'old', index: 100n },
      { value: 'restored', index: 40n },
      { value: 'next', index: 41n },
    ]);
    await watch.stop();
  });

  it('regression: an agent answering index 0 at once does not make a busy loop (never index 0 after a result; rate-limited)', async () => {
    const { agent, watch, changes } = await watched((_req, res) => json(res, [entry('z')], 0), { minIntervalMs: 100 });
    await watch.start();
    await sleep(1000);
    const rounds = agent.requests.length;
    await watch.stop();
    assert.ok(agent.requests.slice(1).every((r) => sentIndex(r) === 1), `after the first result index 1 goes out, never 0: ${agent.requests.map(sentIndex)}`);
    // Index 0 says nothing about change: every answer is delivered (the consumer's content decides), as index 1.
    assert.ok(changes.length >= rounds - 1 && changes.every((c) => c.value === 'z' && c.index === 1n), `${changes.length} changes for ${rounds} rounds`);
    // A burst of 3, then one round per 100 ms: about 13 in a second (a busy loop: thousands).
    assert.ok(rounds >= 8 && rounds <= 16, `${rounds} rounds in 1 s`);
  });

  it('regression: an agent answering index 0 has every change delivered, not only the first after the switch', async () => {
    // Real indexes first, then index 0 on every answer with the content changing twice.
    const answers: [string, number][] = [['a', 7], ['b', 0], ['b', 0], ['c', 0]];
    let round = 0;
    const { agent, watch, changes } = await watched((_req, res) => {
      const answer = answers[Math.min(round++, answers.length - 1)]!;
      json(res, [entry(answer[0])], answer[1]);
    });
    await watch.start();
    await eventually(() => agent.requests.length >= 5, 'five rounds');
    await watch.stop();
    assert.deepEqual(agent.requests.slice(0, 5).map(sentIndex), [0, 7, 1, 1, 1], 'after index 0, index 1 goes out, never 0');
    const values = changes.map((c) => c.value);
    assert.deepEqual(values.slice(0, 4), ['a', 'b', 'b', 'c'], 'both changes under index 0 reach the consumer (who compares content)');
  });

  it('a storm of answers that each move the index is rate-limited too (a wake-up storm does not spin)', async () => {
    let index = 1;
    const { agent, watch, changes } = await watched((_req, res) => json(res, [entry('v')], index++), { minIntervalMs: 100 });
    await watch.start();
    await sleep(1000);
    const rounds = agent.requests.length;
    await watch.stop();
    assert.ok(rounds >= 8 && rounds <= 16, `${rounds} rounds in 1 s`);
    // Every moved index is delivered, but for the round stop() cut short.
    assert.ok(changes.length >= rounds - 1 && changes.length <= rounds, `${changes.length} changes for ${rounds} rounds`);
  });

  it('a 5xx/429 storm backs off with jitter (counted rounds), reports each failure, and recovers', async () => {
    let failing = true;
    let round = 0;
    // minIntervalMs 1: the rate limit alone would allow ~1000 rounds; only the backoff holds it.
    const { agent, watch, errors, changes } = await watched(
      (_req, res) => {
        if (!failing) return json(res, [entry('ok')], 3);
        if (round++ % 2 === 0) text(res, 500, 'No cluster leader');
        else res.writeHead(429).end();
      },
      { minIntervalMs: 1 },
    );
    await watch.start();
    await sleep(2000);
    const rounds = agent.requests.length;
    // 100 ms doubling with full jitter: expected delays 50, 100, 200, 400, 800 ms … about 6 rounds in 2 s.
    assert.ok(rounds >= 2 && rounds <= 12, `${rounds} rounds in 2 s`);
    assert.equal(errors.length, rounds, 'each failed round is reported');
    assert.deepEqual([...new Set(errors.map((e) => `${e.code} ${e.status}`))].sort(), ['MESH_CONSUL_FAILED 429', 'MESH_CONSUL_FAILED 500']);
    assert.equal(watch.consecutiveFailures, rounds);
    failing = false;
    await eventually(() => changes.length === 1, 'recovery', 20_000);
    assert.equal(watch.consecutiveFailures, 0);
    await watch.stop();
  });

  it('after failures the next round is a plain read: recovery with unchanged data is reported at once (onRecover), not after the wait', async () => {
    let round = 0;
    const recovered: number[] = [];
    const { agent, watch, changes, errors } = await watched(
      (req, res) => {
        round++;
        if (round === 1) json(res, [entry('a')], 5);
        else if (round === 2) text(res, 500, 'No cluster leader');
        else if (sentIndex(req) === 0) json(res, [entry('a')], 5); // back, nothing changed
        // blocking rounds on 5 park: nothing changes
      },
      { wait: '60s', onRecover: () => recovered.push(performance.now()) },
    );
    await watch.start();
    const started = performance.now();
    await eventually(() => recovered.length === 1, 'the recovery', 5000);
    assert.ok(recovered[0]! - started < 2000, 'known long before the 60 s wait');
    assert.equal(errors.length, 1);
    assert.deepEqual(changes, [{ value: 'a', index: 5n }], 'the same data is not delivered again');
    await eventually(() => agent.requests.length === 4, 'the next blocking round');
    assert.deepEqual(agent.requests.map(sentIndex), [0, 5, 0, 5]);
    await watch.stop();
  });

  it('after failures, a plain read answering a lower index (restored while down) is delivered at once', async () => {
    let round = 0;
    const { agent, watch, changes } = await watched((_req, res) => {
      round++;
      if (round === 1) json(res, [entry('old')], 100);
      else if (round === 2) text(res, 503, '');
      else if (round === 3) json(res, [entry('restored')], 40);
    });
    await watch.start();
    await eventually(() => changes.length === 2, 'the restored data', 5000);
    assert.deepEqual(changes[1], { value: 'restored', index: 40n });
    await eventually(() => agent.requests.length === 4, 'the next round');
    assert.deepEqual(agent.requests.map(sentIndex), [0, 100, 0, 40]);
    await watch.stop();
  });

  it('a 400 is reported and retried slowly (not ended, not retried at the error backoff)', async () => {
    const { agent, watch, errors } = await watched((_req, res) => text(res, 400, 'Invalid wait time'), { minIntervalMs: 1 });
    await watch.start();
    await sleep(1500);
    assert.equal(agent.requests.length, 1, 'no retry within 1.5 s');
    assert.equal(errors[0]?.status, 400);
    assert.match(errors[0]?.message ?? '', /with 400 \(Invalid wait time\): Consul found the request malformed/);
    await watch.stop();
  });

  it('a hung blocking query is cut by the timeout (wait + wait/16 + requestTimeoutMs) and retried', async () => {
    let round = 0;
    const { agent, watch, errors, changes } = await watched(
      (_req, res) => {
        round++;
        if (round === 1) json(res, [entry('a')], 5);
        else if (round === 3) json(res, [entry('b')], 6);
        // round 2 hangs forever
      },
      { wait: '300ms' },
      200,
    );
    await watch.start();
    const started = performance.now();
    await eventually(() => changes.length === 2, 'the round after the cut', 10_000);
    const took = performance.now() - started;
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.message ?? '', /did not answer GET \/v1\/kv\/p\/\?recurse within 519 ms/);
    assert.ok(took >= 500 && took < 5000, `recovered after ${took} ms`);
    assert.deepEqual(agent.requests.slice(0, 3).map(sentIndex), [0, 5, 0], 'after the cut round, a plain read');
    await watch.stop();
  });

  it('stop() mid-request aborts the query and resolves promptly; openBlockingQueries counts running watches', async () => {
    const before = openBlockingQueries();
    let round = 0;
    const { agent, watch } = await watched((_req, res) => {
      if (round++ === 0) json(res, [entry('a')], 5);
    });
    await watch.start();
    assert.equal(openBlockingQueries(), before + 1);
    await eventually(() => agent.open === 1, 'the parked query');
    const started = performance.now();
    await watch.stop();
    assert.ok(performance.now() - started < 300, 'stop() did not wait for the 2 s wait');
    assert.equal(openBlockingQueries(), before);
    await eventually(() => agent.open === 0, 'the agent to see the query closed');
    assert.equal(agent.requests.length, 2, 'no round after stop()');
  });

  it('stop() during a backoff pause ends at once', async () => {
    const { watch, errors } = await watched((_req, res) => text(res, 500, 'boom'), { minIntervalMs: 1 });
    await watch.start();
    assert.equal(errors.length, 1, 'start() resolves after the first error was reported');
    const started = performance.now();
    await watch.stop();
    assert.ok(performance.now() - started < 100);
  });

  it('a handler that throws is reported and the watch goes on', async () => {
    let index = 1;
    let calls = 0;
    const agent = await startScriptedAgent((_req, res) => (index < 4 ? json(res, [], index++) : undefined));
    teardown.agent(agent);
    const client = new ConsulClient({ url: agent.url });
    teardown.client(client);
    const errors: MeshError[] = [];
    const watch = new BlockingWatch<KvEntry[]>({
      what: 'kv p/',
      query: (i, wait, signal) => client.kvList('p/', { index: i, wait, signal }),
      onChange: () => {
        calls++;
        throw new Error('handler bug');
      },
      onError: (error) => errors.push(error),
      minIntervalMs: 1,
    });
    teardown.watch(watch);
    await watch.start();
    await eventually(() => calls === 3, 'three deliveries');
    assert.equal(errors.length, 3);
    assert.match(errors[0]?.message ?? '', /^kv p\/: a handler of this watch threw \(handler bug\)/);
    await watch.stop();
  });

  it('a watch whose client was closed ends (MESH_CLOSED reported once) instead of retrying forever', async () => {
    let round = 0;
    const { client, watch, errors } = await watched((_req, res) => {
      if (round++ === 0) json(res, [], 2);
    });
    await watch.start();
    await client.close();
    await eventually(() => errors.length === 1, 'the closed report');
    assert.equal(errors[0]?.code, 'MESH_CLOSED');
    await watch.stop();
  });
});
