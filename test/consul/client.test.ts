/**
 * The Consul client's requests and answers, against a scripted agent that produces exact
 * statuses, headers, bodies and hangs: what goes on the wire (token only in the header,
 * presence flags, dc, blocking parameters only with an index), how answers decode (base64
 * values, uint64 indexes, 404 as "missing"), and how each failure becomes a MeshError.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConsulClient } from '../../src/consul/client.ts';
import type { MeshError } from '../../src/core/errors.ts';
import { expectMeshError } from '../support/mesh-error.ts';
import { json, type ScriptedAgent, startScriptedAgent, text } from './scripted-agent.ts';
import { consulTeardown } from './teardown.ts';
import { eventually } from '../support/waits.ts';

const TOKEN = 'b1gs3cr3t-6f1c-4c55-9a3e-token-value';

/** Every message in the error's cause chain, for searching a secret. */
function chainText(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 10; depth++) {
    if (e instanceof Error) {
      parts.push(e.message, String(e.stack), JSON.stringify(e, Object.getOwnPropertyNames(e)));
      e = e.cause;
    } else {
      parts.push(String(e));
      e = undefined;
    }
  }
  return parts.join('\n');
}

/**
 * For a describe(): each setup() starts a scripted agent and a client of it built with
 * `options`; the suite's after() closes the clients, then the agents (consulTeardown).
 */
function agentsWithClients(): {
  setup(options?: Partial<ConstructorParameters<typeof ConsulClient>[0]>): Promise<{ agent: ScriptedAgent; client: ConsulClient }>;
  /** A client the test built itself, closed with the others. */
  track(client: ConsulClient): ConsulClient;
} {
  const teardown = consulTeardown();
  return {
    setup: async (options = {}) => {
      const agent = await startScriptedAgent();
      const client = new ConsulClient({ url: agent.url, ...options });
      teardown.agent(agent);
      teardown.client(client);
      return { agent, client };
    },
    track: teardown.client,
  };
}

describe('ConsulClient on the wire', () => {
  const { setup } = agentsWithClients();

  it('kvList sends ?recurse, dc and stale, the token only as X-Consul-Token, and decodes entries and query meta', async () => {
    const { agent, client } = await setup({ token: TOKEN, datacenter: 'dc2' });
    agent.answer((_req, res) => {
      res.setHeader('x-consul-lastcontact', '12');
      json(res, [{ LockIndex: 0, Key: 'meshlet/defaults', Flags: 7, Value: Buffer.from('{"a":1}').toString('base64'), CreateIndex: 3, ModifyIndex: 9 }, { LockIndex: 0, Key: 'meshlet/empty', Flags: 0, Value: null, CreateIndex: 4, ModifyIndex: 4 }], 42);
    });
    const result = await client.kvList('meshlet/', { stale: true });
    assert.deepEqual(result.value, [
      { key: 'meshlet/defaults', value: Buffer.from('{"a":1}'), flags: 7, createIndex: 3n, modifyIndex: 9n },
      { key: 'meshlet/empty', value: null, flags: 0, createIndex: 4n, modifyIndex: 4n },
    ]);
    assert.equal(result.index, 42n);
    assert.equal(result.knownLeader, true);
    assert.equal(result.lastContactMs, 0);
    const [request] = agent.requests;
    assert.equal(request?.path, '/v1/kv/meshlet/');
    assert.deepEqual([...(request?.query.keys() ?? [])].sort(), ['dc', 'recurse', 'stale']);
    assert.equal(request?.query.get('dc'), 'dc2');
    assert.equal(request?.headers['x-consul-token'], TOKEN);
    assert.ok(!request?.query.toString().includes(TOKEN));
  });

  it('sends index and wait only for a blocking read, and no token header without a token', async () => {
    const { agent, client } = await setup();
    agent.answer((_req, res) => json(res, [], 5));
    await client.healthService('payments', { index: 0n, wait: '30s', passing: true, tags: ['v2', 'eu'] });
    await client.healthService('payments', { index: 5n, wait: '30s' });
    const [first, second] = agent.requests;
    assert.equal(first?.path, '/v1/health/service/payments');
    assert.equal(first?.query.get('index'), null, 'index 0 is a plain read');
    assert.equal(first?.query.get('wait'), null);
    assert.equal(first?.query.get('passing'), '');
    assert.deepEqual(first?.query.getAll('tag'), ['v2', 'eu']);
    assert.equal(second?.query.get('index'), '5');
    assert.equal(second?.query.get('wait'), '30s');
    assert.equal(second?.query.get('passing'), null, 'passing: false/absent is not sent (Consul tests presence)');
    assert.equal(first?.headers['x-consul-token'], undefined);
  });

  it('a missing key or prefix (404 with index headers) is undefined / [] with its index', async () => {
    const { agent, client } = await setup();
    agent.answer((_req, res) => json(res, undefined, 17, 404));
    const got = await client.kvGet('meshlet/nothing');
    assert.equal(got.value, undefined);
    assert.equal(got.index, 17n);
    const listed = await client.kvList('meshlet/');
    assert.deepEqual(listed.value, []);
    assert.equal(listed.index, 17n);
    const entry = await client.configEntry('service-router', 'web');
    assert.equal(entry.value, undefined);
  });

  it('a 404 from an endpoint where it means "no such endpoint" is a failure, not an empty answer', async () => {
    const { agent, client } = await setup();
    agent.answer((_req, res) => text(res, 404, 'Invalid URL path: not a recognized HTTP API endpoint\n'));
    const error = await expectMeshError(client.healthService('payments'), 'MESH_CONSUL_FAILED');
    assert.equal(error.status, 404);
  });

  it('kvPut sends the raw value with cas and flags and returns Consul\'s true/false; kvDelete sends recurse/cas', async () => {
    const { agent, client } = await setup();
    agent.answer((req, res) => res.end(req.query.get('cas') === '9' ? 'false' : 'true'));
    assert.equal(await client.kvPut('meshlet/services/a b', 'v1', { flags: 3 }), true);
    assert.equal(await client.kvPut('meshlet/services/a b', Buffer.from([0, 1, 2]), { cas: 9n }), false);
    assert.equal(await client.kvDelete('meshlet/', { recurse: true }), true);
    const [put, casPut, del] = agent.requests;
    assert.equal(put?.method, 'PUT');
    assert.equal(put?.path, '/v1/kv/meshlet/services/a%20b');
    assert.equal(put?.body.toString(), 'v1');
    assert.equal(put?.query.get('flags'), '3');
    assert.equal(put?.query.get('cas'), null);
    assert.deepEqual(casPut?.body, Buffer.from([0, 1, 2]));
    assert.equal(casPut?.query.get('cas'), '9');
    assert.equal(del?.method, 'DELETE');
    assert.equal(del?.query.get('recurse'), '');
  });

  it('reads a ModifyIndex beyond 2^53 exactly (a rounded one would never win a cas)', async () => {
    const { agent, client } = await setup();
    agent.answer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-consul-index': '18446744073709551615' });
      res.end('[{"LockIndex":0,"Key":"k","Flags":0,"Value":null,"CreateIndex":9007199254740993,"ModifyIndex":18446744073709551615}]');
    });
    const result = await client.kvGet('k');
    assert.equal(result.value?.createIndex, 9007199254740993n);
    assert.equal(result.value?.modifyIndex, 18446744073709551615n);
    assert.equal(result.index, 18446744073709551615n);
  });

  it('agent endpoints: register sends the definition as JSON, deregister and TTL updates their ids and note', async () => {
    const { agent, client } = await setup({ datacenter: 'dc1' });
    agent.answer((_req, res) => res.end());
    await client.registerService({ Name: 'checkout', ID: 'checkout-1', Port: 8080, Check: { TTL: '10s', DeregisterCriticalServiceAfter: '1m' } });
    await client.updateTtlCheck('service:checkout-1', 'warn', 'slow start');
    await client.deregisterService('checkout-1');
    const [register, ttl, deregister] = agent.requests;
    assert.equal(register?.path, '/v1/agent/service/register');
    assert.equal(register?.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(register?.body.toString() ?? ''), { Name: 'checkout', ID: 'checkout-1', Port: 8080, Check: { TTL: '10s', DeregisterCriticalServiceAfter: '1m' } });
    assert.equal(ttl?.path, '/v1/agent/check/warn/service%3Acheckout-1');
    assert.equal(ttl?.query.get('note'), 'slow start');
    assert.equal(deregister?.path, '/v1/agent/service/deregister/checkout-1');
    assert.equal(deregister?.query.get('dc'), null, 'agent endpoints act on the local agent: no dc');
  });
});

describe('ConsulClient failures', () => {
  const { setup, track } = agentsWithClients();

  it('403 ACL not found: a MeshError with status 403 naming the request and what to do, without the token anywhere', async () => {
    const { agent, client } = await setup({ token: TOKEN });
    agent.answer((_req, res) => text(res, 403, 'ACL not found'));
    const error = await expectMeshError(client.kvList('meshlet'), 'MESH_CONSUL_FAILED');
    assert.equal(error.status, 403);
    assert.match(error.message, /^Consul at http:\/\/127\.0\.0\.1:\d+ refused GET \/v1\/kv\/meshlet\?recurse with 403 \(ACL not found\): the ACL token is unknown; check CONSUL_HTTP_TOKEN or the consul.token option$/);
    assert.ok(!chainText(error).includes(TOKEN), 'the token is nowhere in the error');
  });

  it('403 Permission denied, with and without a token, says which it is', async () => {
    const { agent, client } = await setup({ token: TOKEN });
    agent.answer((_req, res) => text(res, 403, 'rpc error making call: Permission denied'));
    const denied = await expectMeshError(client.kvPut('meshlet/x', 'v'), 'MESH_CONSUL_FAILED');
    assert.match(denied.message, /lacks the permission/);
    const anonymous = track(new ConsulClient({ url: agent.url }));
    const error = await expectMeshError(anonymous.kvGet('meshlet/x'), 'MESH_CONSUL_FAILED');
    assert.match(error.message, /no ACL token was sent/);
  });

  it('a body echoing the token (a reflecting proxy) has it replaced before it reaches the message', async () => {
    const { agent, client } = await setup({ token: TOKEN });
    agent.answer((req, res) => text(res, 502, `bad gateway for token ${String(req.headers['x-consul-token'])}`));
    const error = await expectMeshError(client.kvGet('k'), 'MESH_CONSUL_FAILED');
    assert.equal(error.status, 502);
    assert.ok(!chainText(error).includes(TOKEN));
    assert.match(error.message, /token \*\*\*/);
  });

  it('a huge error body is read only up to a bound', async () => {
    const { agent, client } = await setup();
    agent.answer((_req, res) => text(res, 500, 'x'.repeat(5_000_000)));
    const error = await expectMeshError(client.kvGet('k'), 'MESH_CONSUL_FAILED');
    assert.equal(error.status, 500);
    assert.ok(error.message.length < 2000, `message is ${error.message.length} chars`);
    assert.match(error.message, /check the agent's log/);
  });

  it('a hung non-blocking request is cut at requestTimeoutMs with a message naming the timeout', async () => {
    const { agent, client } = await setup({ requestTimeoutMs: 300 });
    agent.answer(() => {});
    const started = performance.now();
    const error = await expectMeshError(client.kvGet('k'), 'MESH_CONSUL_FAILED');
    const took = performance.now() - started;
    assert.equal(error.status, undefined);
    assert.match(error.message, /did not answer GET \/v1\/kv\/k within 300 ms/);
    assert.ok(took >= 290 && took < 2000, `cut after ${took} ms`);
  });

  it('regression: a blocking query answered late in its wait/16 stagger is not cut (node-consul #76/#77 used wait + 500ms)', async () => {
    // wait 1600ms: Consul may answer up to 100 ms after it; this agent answers 90 ms after the
    // wait, and the answer allowance (requestTimeoutMs) is only 50 ms.
    const { agent, client } = await setup({ requestTimeoutMs: 50 });
    agent.answer((_req, res) => setTimeout(() => json(res, [], 8), 1690));
    const result = await client.kvList('p', { index: 7n, wait: '1600ms' });
    assert.equal(result.index, 8n);
    // ... and one that never answers is cut just past wait + wait/16 + the allowance.
    agent.answer(() => {});
    const started = performance.now();
    const error = await expectMeshError(client.kvList('p', { index: 8n, wait: '1600ms' }), 'MESH_CONSUL_FAILED');
    const took = performance.now() - started;
    assert.match(error.message, /within 1750 ms \(a blocking query/);
    assert.ok(took >= 1740 && took < 3500, `cut after ${took} ms`);
  });

  it('an agent that is not there: MESH_CONSUL_FAILED without a status, saying to check the address', async () => {
    const { agent } = await setup();
    const url = agent.url;
    await agent.close();
    const client = track(new ConsulClient({ url }));
    const error = await expectMeshError(client.kvGet('k'), 'MESH_CONSUL_FAILED');
    assert.equal(error.status, undefined);
    assert.match(error.message, /could not be reached for GET \/v1\/kv\/k .*check that the agent runs there/);
  });

  it('an answer that is not Consul\'s JSON is a MESH_CONSUL_FAILED saying so', async () => {
    const { agent, client } = await setup();
    agent.answer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>router login</html>'));
    const error = await expectMeshError(client.kvList('p'), 'MESH_CONSUL_FAILED');
    assert.match(error.message, /not JSON meshlet cannot read|not JSON/);
  });

  it('a caller abort ends a blocking query at once with MESH_ABORTED', async () => {
    const { agent, client } = await setup();
    agent.answer(() => {});
    const controller = new AbortController();
    const pending = client.kvList('p', { index: 3n, wait: '60s', signal: controller.signal });
    await eventually(() => agent.open === 1, 'the blocking query to be open at the agent');
    const started = performance.now();
    controller.abort();
    await expectMeshError(pending, 'MESH_ABORTED');
    assert.ok(performance.now() - started < 500);
    await eventually(() => agent.open === 0, 'the aborted query to be closed at the agent');
  });

  it('close() ends a blocking query in flight with MESH_CLOSED, and later calls are refused', async () => {
    const { agent, client } = await setup();
    agent.answer(() => {});
    const pending = client.kvList('p', { index: 3n, wait: '60s' });
    await eventually(() => agent.open === 1, 'the blocking query to be open at the agent');
    await client.close();
    await expectMeshError(pending, 'MESH_CLOSED');
    await expectMeshError(client.kvGet('k'), 'MESH_CLOSED');
  });
});

describe('ConsulClient URL', () => {
  it('refuses a URL that is not an agent URL with MESH_CONFIG_INVALID naming the option', () => {
    for (const url of ['127.0.0.1:8500', 'ftp://host', 'http://host:8500/consul', 'not a url']) {
      assert.throws(
        () => new ConsulClient({ url }),
        (error: MeshError) => error.code === 'MESH_CONFIG_INVALID' && error.message.startsWith('url: '),
        url,
      );
    }
  });

  it('refuses credentials in the URL without echoing them', () => {
    assert.throws(
      () => new ConsulClient({ url: 'http://user:hunter2@127.0.0.1:8500' }),
      (error: MeshError) => error.code === 'MESH_CONFIG_INVALID' && !error.message.includes('hunter2') && /consul\.token/.test(error.message),
    );
  });

  it('address is the origin', async () => {
    const client = new ConsulClient({ url: 'https://consul.internal:8501/' });
    assert.equal(client.address, 'https://consul.internal:8501');
    await client.close();
  });
});

