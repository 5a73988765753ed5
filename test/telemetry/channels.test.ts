/**
 * The diagnostics channels (src/telemetry/channels.ts) as a subscriber sees them, with no
 * OpenTelemetry SDK in this process: the documented message shapes for a call with a retry,
 * config applied and rejected, endpoints added, ejected and readmitted; no message at all
 * while nobody subscribes, and nothing secret in any message.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { type ControlListener, type ControlStore, createMesh, type Mesh, runWithInbound } from '../../src/index.ts';
import { startBackend, type Backend } from '../support/http-backend.ts';
import { eventually } from '../support/waits.ts';

const NAMES = ['meshlet:call:start', 'meshlet:call:end', 'meshlet:attempt:start', 'meshlet:attempt:end', 'meshlet:config', 'meshlet:endpoint'] as const;

function subscribeAll(): { seen: Array<{ name: string; message: Record<string, unknown> }>; stop(): void } {
  const seen: Array<{ name: string; message: Record<string, unknown> }> = [];
  const subscribers = NAMES.map((name) => {
    const fn = (message: unknown) => seen.push({ name, message: message as Record<string, unknown> });
    diagnosticsChannel.subscribe(name, fn);
    return () => diagnosticsChannel.unsubscribe(name, fn);
  });
  return {
    seen,
    stop: () => {
      for (const stop of subscribers) stop();
    },
  };
}

describe('diagnostics channels', () => {
  let backend: Backend;
  let mesh: Mesh;
  let failNext = 0;

  before(async () => {
    backend = await startBackend((_req, res) => {
      res.statusCode = failNext-- > 0 ? 503 : 200;
      res.end('ok');
    });
  });

  after(async () => {
    await mesh?.close();
    await backend.close();
  });

  it('publishes config and endpoint messages from the first config on', async () => {
    const { seen, stop } = subscribeAll();
    mesh = await createMesh({ service: 'checkout', config: { services: { payments: { endpoints: [backend.address], retry: { attempts: 3, backoff: { base: '1ms', max: '2ms' } } } } } });
    stop();
    const config = seen.find((entry) => entry.name === 'meshlet:config');
    const id = config?.message.mesh;
    assert.equal(typeof id, 'number');
    assert.deepEqual(config?.message, { mesh: id, kind: 'applied', source: 'bootstrap', version: 1, changedServices: ['payments'], issues: [] });
    const endpoint = seen.find((entry) => entry.name === 'meshlet:endpoint');
    assert.deepEqual(endpoint?.message, { mesh: id, service: 'payments', endpoint: backend.address, event: 'added', reason: undefined });
  });

  it('a call with one retry: call start/end and one attempt start/end per attempt, in order, with the documented fields', async () => {
    const { seen, stop } = subscribeAll();
    failNext = 1;
    const response = await mesh.client('payments').request({ path: '/charge?card=4111111111111111&token=s3cret', headers: { authorization: 'Bearer s3cret' } });
    await response.body.text();
    stop();
    assert.deepEqual(seen.map((entry) => entry.name), ['meshlet:call:start', 'meshlet:attempt:start', 'meshlet:attempt:end', 'meshlet:attempt:start', 'meshlet:attempt:end', 'meshlet:call:end']);
    const [start, a1, e1, a2, e2, end] = seen.map((entry) => entry.message);
    assert.deepEqual(Object.keys(start!).sort(), ['mesh', 'method', 'route', 'service', 'startedAt']);
    assert.equal(typeof start!.mesh, 'number');
    assert.equal(start!.service, 'payments');
    assert.equal(start!.method, 'GET');
    assert.deepEqual({ ...a1, startedAt: 0 }, { mesh: start!.mesh, service: 'payments', attempt: 1, hedge: false, endpoint: backend.address, method: 'GET', startedAt: 0 });
    assert.equal(e1!.statusCode, 503);
    assert.equal(e1!.outcome, 'failure');
    assert.equal(e1!.condition, '503');
    assert.equal(e1!.errorType, '503');
    assert.equal(typeof e1!.durationMs, 'number');
    assert.equal(a2!.attempt, 2);
    assert.equal(e2!.statusCode, 200);
    assert.equal(e2!.outcome, 'success');
    assert.equal(e2!.errorType, undefined);
    assert.equal(end!.statusCode, 200);
    assert.equal(end!.outcome, 'success');
    assert.equal(end!.attempts, 2);
    assert.equal(end!.errorCode, undefined);
    assert.ok((end!.durationMs as number) >= (e2!.durationMs as number));
    const text = JSON.stringify(seen);
    for (const secret of ['s3cret', '4111111111111111', 'charge', 'authorization']) assert.ok(!text.includes(secret), `${secret} in a channel message`);
  });

  it('regression: a call serving an inbound request (the deadline layer makes it a new call) still publishes its attempts', async () => {
    const { seen, stop } = subscribeAll();
    await runWithInbound({ timeout: 5000 }, async () => {
      await (await mesh.client('payments').request({ path: '/' })).body.text();
    });
    stop();
    assert.deepEqual(seen.map((entry) => entry.name), ['meshlet:call:start', 'meshlet:attempt:start', 'meshlet:attempt:end', 'meshlet:call:end']);
  });

  it('a failed call ends with the MeshError code the caller gets', async () => {
    const { seen, stop } = subscribeAll();
    failNext = 5;
    const response = await mesh.client('payments').request({ path: '/' });
    await response.body.dump();
    const down = await createMesh({ service: 'c', config: { services: { gone: { endpoints: ['127.0.0.1:1'], retry: false } } } });
    await assert.rejects(down.client('gone').request({ path: '/' }), { code: 'MESH_UPSTREAM_FAILED' });
    await down.close();
    stop();
    const ends = seen.filter((entry) => entry.name === 'meshlet:call:end').map((entry) => entry.message);
    assert.equal(ends[0]!.statusCode, 503);
    assert.equal(ends[0]!.outcome, 'failure');
    assert.equal(ends[0]!.attempts, 3);
    assert.deepEqual({ status: ends[1]!.statusCode, outcome: ends[1]!.outcome, code: ends[1]!.errorCode }, { status: undefined, outcome: 'failure', code: 'MESH_UPSTREAM_FAILED' });
    const failedAttempt = seen.find((entry) => entry.name === 'meshlet:attempt:end' && entry.message.service === 'gone')?.message;
    assert.equal(failedAttempt?.errorType, 'connect-error');
  });

  it('publishes a rejected config with its issues and the version still in force', async () => {
    const { seen, stop } = subscribeAll();
    let listener: ControlListener | undefined;
    const store: ControlStore = {
      source: 'test:pushed',
      async watch(l) {
        listener = l;
        l.snapshot({ services: { a: { endpoints: [backend.address] } } });
      },
      async close() {},
    };
    const watched = await createMesh({ service: 'c', control: store });
    listener!.snapshot({ services: { a: { endpoints: [backend.address], timeout: 'soon' }, b: { endpoints: ['http://user:hunter2@127.0.0.1:1/?token=s3cret'] } } });
    await eventually(() => seen.some((entry) => entry.name === 'meshlet:config' && entry.message.kind === 'rejected'), 'the rejection');
    await watched.close();
    stop();
    const configs = seen.filter((entry) => entry.name === 'meshlet:config').map((entry) => entry.message);
    const applied = configs.filter((message) => message.kind === 'applied').at(-1)!;
    const rejected = configs.find((message) => message.kind === 'rejected')!;
    assert.deepEqual(Object.keys(rejected).sort(), ['changedServices', 'issues', 'kind', 'mesh', 'source', 'version']);
    assert.equal(rejected.source, 'test:pushed');
    assert.equal(rejected.version, applied.version, 'the version in force is the last applied one');
    assert.deepEqual(rejected.changedServices, []);
    const issues = rejected.issues as string[];
    assert.ok(issues.length > 0 && issues.every((issue) => typeof issue === 'string'));
    assert.match(issues[0]!, /^services\.a\.timeout: /);
    assert.ok(issues.some((issue) => issue.startsWith('services.b.')), `an issue names the endpoint with credentials: ${issues.join('; ')}`);
    const text = JSON.stringify(seen);
    for (const secret of ['hunter2', 's3cret']) assert.ok(!text.includes(secret), `${secret} in a config message`);
  });

  it('publishes nothing, and builds no message, while nobody subscribes', async () => {
    const published: string[] = [];
    const channels = NAMES.map((name) => diagnosticsChannel.channel(name));
    for (const channel of channels) assert.equal(channel.hasSubscribers, false);
    const originals = channels.map((channel) => channel.publish);
    channels.forEach((channel, i) => {
      channel.publish = (message: unknown) => {
        published.push(NAMES[i]!);
        originals[i]!.call(channel, message);
      };
    });
    try {
      failNext = 1;
      const response = await mesh.client('payments').request({ path: '/' });
      await response.body.text();
    } finally {
      // NOTE: delete, not assign back: an own `publish` would shadow the one Node swaps in on subscribe.
      for (const channel of channels) delete (channel as { publish?: unknown }).publish;
    }
    assert.deepEqual(published, []);
  });
});

describe('diagnostics channels: endpoint ejection', () => {
  it('publishes ejected, with its reason', async () => {
    const sick = await startBackend((_req, res) => {
      res.statusCode = 500;
      res.end();
    });
    const { seen, stop } = subscribeAll();
    const mesh = await createMesh({
      service: 'c',
      config: { services: { flaky: { endpoints: [sick.address], retry: false, outlier: { consecutiveFailures: 2, ejectFor: '50ms', maxEjectedPercent: 100 } } } },
    });
    try {
      for (let i = 0; i < 2; i++) await (await mesh.client('flaky').request({ path: '/' })).body.dump();
      await eventually(() => seen.some((entry) => entry.name === 'meshlet:endpoint' && entry.message.event === 'ejected'), 'an ejection');
      const ejected = seen.find((entry) => entry.name === 'meshlet:endpoint' && entry.message.event === 'ejected')!.message;
      assert.equal(ejected.service, 'flaky');
      assert.equal(ejected.endpoint, sick.address);
      assert.equal(typeof ejected.reason, 'string');
    } finally {
      stop();
      await mesh.close();
      await sick.close();
    }
  });
});
