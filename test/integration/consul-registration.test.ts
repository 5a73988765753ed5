/**
 * mesh.register() against the emulator (or a real agent when CONSUL_HTTP_ADDR is set): the
 * instance is visible in /v1/health/service with a passing check, meshlet keeps its TTL check
 * passing past the TTL, an unhealthy process fails its check, close() takes the instance out
 * of Consul before it drains, and an agent that forgot the instance gets it back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMesh, isMeshError, type Mesh } from '../../src/index.ts';
import { call } from '../support/consul-emulator/wire-client.ts';
import { type TestConsul, consulForTests, emulatorOnly } from '../support/consul.ts';
import { consulSuite } from '../support/consul-suite.ts';
import { endpointIds, eventually, startHoldingBackend } from './consul-discovery-harness.ts';

interface HealthEntry {
  Service: { ID: string; Service: string; Port: number; Address: string; Tags: string[]; Meta: Record<string, string> | null };
  Checks: { CheckID: string; Status: string; Output: string }[];
}

interface RegistrationState {
  id: string;
  name: string;
  check: string;
  status: string;
  lastError: string | null;
}

describe('Consul registration', () => {
  const suite = consulSuite(consulForTests);

  const meshOf = async (service: string, config?: Parameters<typeof createMesh>[0]['config']): Promise<Mesh> =>
    suite.mesh(await createMesh({ service, consul: { url: suite.consul.url, ...(suite.consul.token && { token: suite.consul.token }) }, ...(config && { config }) }));
  const health = async (name: string): Promise<HealthEntry[]> => {
    const res = await call(suite.consul.url, 'GET', `/v1/health/service/${name}`, { headers: suite.consul.token ? { 'X-Consul-Token': suite.consul.token } : {} });
    assert.equal(res.status, 200, res.body);
    return res.json<HealthEntry[]>();
  };
  const checkStatus = async (name: string, id: string): Promise<string | undefined> =>
    (await health(name)).find((entry) => entry.Service.ID === id)?.Checks.find((check) => check.CheckID === `service:${id}`)?.Status;
  const registrations = (mesh: Mesh): RegistrationState[] => mesh.state().registrations as RegistrationState[];

  it('register: visible in /v1/health/service with a passing check, and the 1s TTL stays passing over 2 TTLs', async () => {
    const mesh = await meshOf('checkout');
    const registered = await mesh.register({ name: 'reg-visible', port: 8081, address: '127.0.0.1', tags: ['v2'], meta: { version: '2' }, check: { ttl: '1s' } });
    assert.equal(registered.id, 'reg-visible-8081');
    const [entry, ...others] = await health('reg-visible');
    assert.equal(others.length, 0);
    assert.equal(entry?.Service.ID, 'reg-visible-8081');
    assert.equal(entry?.Service.Port, 8081);
    assert.equal(entry?.Service.Address, '127.0.0.1');
    assert.deepEqual(entry?.Service.Tags, ['v2']);
    assert.deepEqual(entry?.Service.Meta, { version: '2' });
    assert.equal(entry?.Checks.find((c) => c.CheckID === 'service:reg-visible-8081')?.Status, 'passing');
    assert.deepEqual(registrations(mesh), [{ id: 'reg-visible-8081', name: 'reg-visible', check: 'ttl 1000 ms', status: 'passing', lastError: null }]);

    // Without heartbeats the check would go critical 1 s after registering.
    const started = performance.now();
    while (performance.now() - started < 2200) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(await checkStatus('reg-visible', 'reg-visible-8081'), 'passing', `passing ${Math.round(performance.now() - started)} ms after registering`);
    }
    if (suite.consul.emulator !== undefined) {
      const passes = suite.consul.emulator.requests.filter((r) => r.method === 'PUT' && r.path === '/v1/agent/check/pass/service%3Areg-visible-8081').length;
      // One pass every ttl/3 (333 ms) over ~2.2 s: about 6; fewer than 4 would let the TTL lapse under load.
      assert.ok(passes >= 4 && passes <= 9, `${passes} passes in 2.2 s`);
    }
    await registered.deregister();
    assert.deepEqual(await health('reg-visible'), []);
  });

  it('an unhealthy process fails its check (healthy() false, or throwing), and passes again once healthy', async () => {
    const mesh = await meshOf('checkout');
    let healthy: boolean | 'throw' = true;
    await mesh.register({
      name: 'reg-unhealthy',
      port: 8082,
      check: {
        ttl: '1s',
        healthy: () => {
          if (healthy === 'throw') throw new Error('database pool exhausted');
          return healthy;
        },
      },
    });
    assert.equal(await checkStatus('reg-unhealthy', 'reg-unhealthy-8082'), 'passing');
    healthy = false;
    await eventually(async () => (await checkStatus('reg-unhealthy', 'reg-unhealthy-8082')) === 'critical', 'the check to fail');
    assert.equal(registrations(mesh)[0]?.status, 'failing');
    // Callers asking for passing instances no longer get it.
    const passing = await call(suite.consul.url, 'GET', '/v1/health/service/reg-unhealthy?passing', { headers: suite.consul.token ? { 'X-Consul-Token': suite.consul.token } : {} });
    assert.deepEqual(passing.json(), []);
    healthy = true;
    await eventually(async () => (await checkStatus('reg-unhealthy', 'reg-unhealthy-8082')) === 'passing', 'the check to pass again');
    healthy = 'throw';
    await eventually(async () => (await checkStatus('reg-unhealthy', 'reg-unhealthy-8082')) === 'critical', 'the check to fail on a throw');
    const [entry] = await health('reg-unhealthy');
    assert.match(entry?.Checks.find((c) => c.CheckID === 'service:reg-unhealthy-8082')?.Output ?? '', /healthy\(\) threw: database pool exhausted/);
  });

  it('close() deregisters before draining: callers drop the instance while its call in flight still runs, and that call completes', async (t) => {
    const upstream = await suite.backend(startHoldingBackend);
    const instance = await suite.backend();
    const mesh = await createMesh({ service: 'reg-drain', consul: { url: suite.consul.url, ...(suite.consul.token && { token: suite.consul.token }) }, config: { services: { upstream: { endpoints: [upstream.address] } } } });
    t.after(() => mesh.close());
    await mesh.register({ name: 'reg-drain', port: instance.port, address: '127.0.0.1', check: { ttl: '10s' } });
    const caller = await meshOf('caller', { services: { 'reg-drain': { discovery: { type: 'consul' } } } });
    assert.deepEqual(endpointIds(caller, 'reg-drain'), [instance.address]);

    const inFlight = mesh.client('upstream').request({ path: '/hold' });
    await eventually(() => upstream.held === 1, 'the call to reach the upstream');
    let closed = false;
    const closing = mesh.close().then(() => {
      closed = true;
    });
    await eventually(async () => (await health('reg-drain')).length === 0, 'the instance to leave Consul');
    await eventually(() => endpointIds(caller, 'reg-drain').length === 0, "the caller's endpoint set to drop it");
    assert.equal(closed, false, 'close() is still draining the call in flight');
    assert.equal(upstream.held, 1);
    upstream.release();
    const response = await inFlight;
    assert.equal(response.statusCode, 200);
    await response.body.text();
    await closing;
    assert.equal(registrations(mesh)[0]?.status, 'deregistered');
    await assert.rejects(
      mesh.register({ name: 'reg-drain', port: instance.port }),
      (error: unknown) => isMeshError(error) && error.code === 'MESH_CLOSED' && /mesh\.register\(\)/.test(error.message),
    );
  });

  it('an agent that forgot the instance (restarted without its state) gets it back; while it is down state() says so', async (t) => {
    const emulator = emulatorOnly(t, suite.consul);
    if (emulator === undefined) return;
    const mesh = await meshOf('checkout');
    await mesh.register({ name: 'reg-forgot', port: 8083, check: { ttl: '1s' } });
    await emulator.stop();
    await eventually(() => registrations(mesh)[0]?.status === 'unreachable', 'state() to report the agent unreachable', 3000);
    assert.match(registrations(mesh)[0]?.lastError ?? '', /could not be reached.*meshlet retries every 333 ms/);
    // The agent comes back without its state.
    await emulator.catalog.deregister('reg-forgot-8083');
    await emulator.start();
    await eventually(async () => (await checkStatus('reg-forgot', 'reg-forgot-8083')) === 'passing', 'the instance to be registered again');
    await eventually(() => registrations(mesh)[0]?.status === 'passing', 'state() to say passing');
    assert.equal(registrations(mesh)[0]?.lastError, null);

    // And behind meshlet's back while the agent runs: the next heartbeat's 404 registers it again.
    await emulator.catalog.deregister('reg-forgot-8083');
    await eventually(async () => (await checkStatus('reg-forgot', 'reg-forgot-8083')) === 'passing', 'the instance to be registered again', 2000);
  });

  it('register() while the agent is down resolves, says unreachable in state(), and registers once the agent is back', async (t) => {
    const emulator = emulatorOnly(t, suite.consul);
    if (emulator === undefined) return;
    const mesh = await meshOf('checkout');
    await emulator.stop();
    try {
      const registered = await mesh.register({ name: 'reg-late', port: 8085, check: { ttl: '1s' } });
      assert.equal(registered.id, 'reg-late-8085');
      const [state] = registrations(mesh);
      assert.equal(state?.status, 'unreachable');
      assert.match(state?.lastError ?? '', /^Consul at http:\/\/127\.0\.0\.1:\d+ could not be reached for PUT \/v1\/agent\/service\/register .*; meshlet retries every 333 ms$/);
    } finally {
      await emulator.start();
    }
    await eventually(async () => (await checkStatus('reg-late', 'reg-late-8085')) === 'passing', 'the registration once the agent is back', 3000);
    assert.deepEqual(
      registrations(mesh).map((r) => [r.status, r.lastError]),
      [['passing', null]],
    );
  });

  it('a deregistration the agent never answers holds close() for at most 2 s', async (t) => {
    const emulator = emulatorOnly(t, suite.consul);
    if (emulator === undefined) return;
    const mesh = await createMesh({ service: 'checkout', consul: { url: suite.consul.url } });
    await mesh.register({ name: 'reg-hung', port: 8084, check: { ttl: '30s' } });
    emulator.faults.hangNext(1);
    const started = performance.now();
    await mesh.close();
    const took = performance.now() - started;
    assert.ok(took >= 1900 && took < 3000, `close() took ${Math.round(took)} ms`);
    await emulator.catalog.deregister('reg-hung-8084');
  });

  it('an HTTP check is registered for Consul to run; the agent calls the URL', async (t) => {
    const emulator = emulatorOnly(t, suite.consul);
    if (emulator === undefined) return;
    const instance = await suite.backend();
    const mesh = await meshOf('checkout');
    await mesh.register({ name: 'reg-http', port: instance.port, check: { http: `${instance.url}/health`, interval: '200ms', timeout: '1s' }, deregisterCriticalAfter: '1m' });
    await eventually(async () => (await checkStatus('reg-http', `reg-http-${instance.port}`)) === 'passing', 'the HTTP check to pass');
    assert.ok(instance.received.some((r) => r.url === '/health'));
    assert.equal(registrations(mesh)[0]?.status, 'registered');
    assert.match(registrations(mesh)[0]?.check ?? '', /^http http:\/\/127\.0\.0\.1:\d+\/health every 200 ms$/);
  });
});

describe('Consul registration: refusals', () => {
  let consul: TestConsul;
  before(async () => {
    consul = await consulForTests({ acl: { defaultPolicy: 'deny', tokens: { 'writer-secret-1234': { policy: 'write' } } } });
  });
  after(() => consul.close());

  it('bad arguments are MESH_BAD_REQUEST naming the argument, and nothing reaches the agent', async (t) => {
    const emulator = emulatorOnly(t, consul);
    if (emulator === undefined) return;
    const mesh = await createMesh({ service: 'checkout', consul: { url: consul.url, token: 'writer-secret-1234' } });
    t.after(() => mesh.close());
    const before = emulator.requests.length;
    const cases: [unknown, RegExp][] = [
      [undefined, /options object/],
      [{ port: 80 }, /name must be a service name/],
      [{ name: 'a b', port: 80 }, /name must be a service name/],
      [{ name: 'a', port: 0 }, /port must be the port/],
      [{ name: 'a', port: 80.5 }, /port must be the port/],
      [{ name: 'a', port: 80, id: 'x/y' }, /id must be/],
      [{ name: 'a', port: 80, address: '0.0.0.0' }, /address 0\.0\.0\.0 is where a server listens/],
      [{ name: 'a', port: 80, tags: 'v2' }, /tags must be an array/],
      [{ name: 'a', port: 80, meta: { 'consul-x': '1' } }, /meta\.consul-x the "consul-" prefix is reserved/],
      [{ name: 'a', port: 80, meta: { version: 2 } }, /meta\.version must be a string/],
      [{ name: 'a', port: 80, tag: ['v2'] }, /unknown option "tag" \(tags: \["v2"\]\)/],
      [{ name: 'a', port: 80, ttl: '10s' }, /unknown option "ttl" \(the TTL goes inside check/],
      [{ name: 'a', port: 80, check: {} }, /check needs ttl .* or http/],
      [{ name: 'a', port: 80, check: { ttl: '10s', http: 'http://x/' } }, /check has both ttl and http/],
      [{ name: 'a', port: 80, check: { ttl: 'ten seconds' } }, /check\.ttl expected a duration/],
      [{ name: 'a', port: 80, check: { ttl: '100ms' } }, /check\.ttl must be at least 1000 ms/],
      [{ name: 'a', port: 80, check: { ttl: '10s', healthy: true } }, /check\.healthy must be a function/],
      [{ name: 'a', port: 80, check: { ttl: '10s', interval: '1s' } }, /unknown check option "interval"/],
      [{ name: 'a', port: 80, check: { http: '/health', interval: '1s' } }, /check\.http must be an absolute http\(s\) URL/],
      [{ name: 'a', port: 80, check: { http: 'http://127.0.0.1/health' } }, /check\.interval expected a duration/],
      [{ name: 'a', port: 80, deregisterCriticalAfter: '-1m' }, /deregisterCriticalAfter expected a duration/],
    ];
    for (const [options, message] of cases) {
      await assert.rejects(
        mesh.register(options as never),
        (error: unknown) => isMeshError(error) && error.code === 'MESH_BAD_REQUEST' && error.message.startsWith('mesh.register(options): ') && message.test(error.message),
        `${JSON.stringify(options)} → ${message}`,
      );
    }
    assert.equal(emulator.requests.length, before, 'no request was sent');
    await mesh.register({ name: 'reg-once', port: 80 });
    await assert.rejects(mesh.register({ name: 'reg-once', port: 80 }), /id "reg-once-80" is already registered by this mesh/);
  });

  it('a bad ACL token: register() rejects with MESH_CONSUL_FAILED naming the 403, and no token in the error or in state()', async (t) => {
    emulatorOnly(t, consul);
    const mesh = await createMesh({ service: 'checkout', consul: { url: consul.url, token: 'wrong-secret-5678' } });
    t.after(() => mesh.close());
    const error = await mesh.register({ name: 'reg-acl', port: 80 }).then(
      () => assert.fail('register() resolved'),
      (caught: unknown) => caught,
    );
    assert.ok(isMeshError(error) && error.code === 'MESH_CONSUL_FAILED' && error.status === 403, String(error));
    assert.match(error.message, /403 \(ACL not found\).*the ACL token is unknown/);
    assert.doesNotMatch(`${error.message} ${String(error.cause)}`, /wrong-secret-5678/);
    assert.doesNotMatch(JSON.stringify(mesh.state()), /secret/);
    assert.deepEqual(mesh.state().registrations, []);

    const writer = await createMesh({ service: 'checkout', consul: { url: consul.url, token: 'writer-secret-1234' } });
    t.after(() => writer.close());
    await writer.register({ name: 'reg-acl', port: 80, check: { ttl: '1s' } });
    assert.doesNotMatch(JSON.stringify(writer.state()), /writer-secret-1234/);
  });

  it('a mesh with no Consul agent says how to configure one', { skip: process.env.CONSUL_HTTP_ADDR ? 'CONSUL_HTTP_ADDR names an agent' : false }, async () => {
    const mesh = await createMesh({ service: 'checkout' });
    await assert.rejects(mesh.register({ name: 'a', port: 80 }), (error: unknown) => isMeshError(error) && /no Consul agent is configured.*CONSUL_HTTP_ADDR/.test(error.message));
    await mesh.close();
  });
});
