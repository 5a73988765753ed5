/**
 * Consul outages, through a whole mesh against the emulator: the agent stopped mid-traffic
 * costs no call (the last endpoints stay in force, state() says Consul is unavailable) and
 * an instance registered meanwhile appears when it returns; a mesh started while Consul is
 * down uses the endpoints its cacheDir kept, and says so and how old they are; an error never
 * carries the ACL token into state() or events.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { STARTUP_WAIT_MS } from '../../src/discovery/consul-resolver.ts';
import { createMesh, type Mesh } from '../../src/index.ts';
import { startConsulEmulator } from '../support/consul-emulator/index.ts';
import { consulSuite } from '../support/consul-suite.ts';
import type { Backend } from '../support/http-backend.ts';
import { expectMeshError } from '../support/mesh-error.ts';
import { statusOrCode } from '../support/outcome.ts';
import { suiteTempDir } from '../support/temp-dir.ts';
import { sleep, traffic } from '../support/waits.ts';
import { endpointIds, eventually, portOf, registrationOf, type Services, serviceState } from './consul-discovery-harness.ts';

describe('Consul discovery through outages', () => {
  // The agent is stopped and started here: the emulator's fault hooks, not a real agent.
  const suite = consulSuite(startConsulEmulator);
  const dir = suiteTempDir('meshlet-consul-discovery-');
  const backend = (): Promise<Backend> => suite.backend();
  const meshFor = async (services: Services, cacheDir?: string): Promise<Mesh> =>
    suite.mesh(await createMesh({ service: 'caller', consul: { url: suite.consul.url }, config: { services }, ...(cacheDir === undefined ? {} : { cacheDir }) }));

  it('Consul stopped mid-traffic: zero failed calls on the last endpoints; an instance added meanwhile appears when it returns', async (t) => {
    const [a, b, c] = [await backend(), await backend(), await backend()];
    await suite.consul.catalog.register(registrationOf(a, 'outage', 'outage-a'));
    await suite.consul.catalog.register(registrationOf(b, 'outage', 'outage-b'));
    const mesh = await meshFor({ outage: { discovery: { type: 'consul' }, balancer: 'round-robin' } });
    const api = mesh.client('outage');
    const load = traffic(() => statusOrCode(api.request({ path: '/' })));
    t.after(() => load.stop());

    await sleep(100);
    await suite.consul.stop();
    const atStop = load.outcomes.length;
    await eventually(() => serviceState(mesh, 'outage').discovery.status === 'unavailable', 'state() to say Consul is unavailable');
    const down = serviceState(mesh, 'outage');
    assert.match(down.discoveryError ?? '', /Consul discovery of outage failed: .*keeping the last endpoints \(from Consul\)/);
    assert.deepEqual(endpointIds(mesh, 'outage'), [a.address, b.address].sort());

    // Registered while the agent is down; it reaches the catalog when the agent is back.
    await suite.consul.catalog.register(registrationOf(c, 'outage', 'outage-c'));
    // Counted, not timed: on a loaded machine 300 ms may hold 20 calls or 200.
    await eventually(() => load.outcomes.length - atStop >= 50, '50 calls made while Consul is down', 15_000);
    const duringOutage = load.outcomes.length - atStop;
    await suite.consul.start();
    await eventually(() => endpointIds(mesh, 'outage').includes(c.address), 'the instance added during the outage', 15_000);
    await eventually(() => c.received.length > 0, 'a call on the new instance');
    await load.stop();

    assert.ok(duringOutage >= 50, `calls kept flowing during the outage (${duringOutage} made)`);
    const failed = load.outcomes.filter((outcome) => outcome !== 200);
    assert.deepEqual(failed, [], `${failed.length} of ${load.outcomes.length} calls failed`);
    const recovered = serviceState(mesh, 'outage');
    assert.equal(recovered.discovery.status, 'ok');
    assert.equal(recovered.discoveryError, null);
  });

  it('a mesh started while Consul is down uses the endpoints its cacheDir kept, and says so', async () => {
    const a = await backend();
    await suite.consul.catalog.register(registrationOf(a, 'cached', 'cached-a', { Tags: ['v1'], Meta: { zone: 'eu' } }));
    const cacheDir = join(dir(), 'cache');
    const first = await meshFor({ cached: { discovery: { type: 'consul' } } }, cacheDir);
    await eventually(() => endpointIds(first, 'cached').length === 1, 'the first mesh to see the instance');
    const onDisk = async () => (await savedLists(cacheDir, 'cached')).includes(`"port":${a.port}`);
    await eventually(onDisk, 'the endpoint list on disk');
    await first.close();

    await suite.consul.stop();
    try {
      const second = await meshFor({ cached: { discovery: { type: 'consul' } } }, cacheDir);
      const state = serviceState(second, 'cached');
      assert.equal(state.discovery.endpointsFrom, 'cache');
      assert.equal(state.discovery.status, 'unavailable');
      assert.ok(typeof state.discovery.cachedAgeMs === 'number' && state.discovery.cachedAgeMs >= 0, `age ${state.discovery.cachedAgeMs}`);
      assert.match(state.discoveryError ?? '', /using 1 endpoint from the cache/);
      // Regression: discovery.lastError ended 'no endpoints yet' while discoveryError said the cache was in use.
      assert.equal(state.discovery.lastError, state.discoveryError, 'state() tells one story');
      assert.deepEqual(endpointIds(second, 'cached'), [a.address]);
      assert.equal(await portOf(second.client('cached').request({ path: '/' })), a.port);

      await suite.consul.start();
      await eventually(() => serviceState(second, 'cached').discovery.endpointsFrom === 'consul', 'Consul to take over from the cache', 15_000);
      assert.equal(serviceState(second, 'cached').discoveryError, null);
    } finally {
      await suite.consul.start();
    }
  });

  it('a cached list saved for other tags does not stand in for this one', async () => {
    const a = await backend();
    await suite.consul.catalog.register(registrationOf(a, 'retagged', 'retagged-a', { Tags: ['v1'] }));
    const cacheDir = join(dir(), 'retagged');
    const first = await meshFor({ retagged: { discovery: { type: 'consul', tags: ['v1'] } } }, cacheDir);
    await eventually(() => endpointIds(first, 'retagged').length === 1, 'the first mesh to see the instance');
    await eventually(async () => (await savedLists(cacheDir, 'retagged')).includes('"v1"'), 'the v1 list on disk');
    await first.close();
    await suite.consul.stop();
    try {
      const second = await meshFor({ retagged: { discovery: { type: 'consul', tags: ['v2'] } } }, cacheDir);
      assert.equal(serviceState(second, 'retagged').discovery.endpointsFrom, 'none');
      await expectMeshError(second.client('retagged').request({ path: '/' }), 'MESH_NO_ENDPOINTS');
    } finally {
      await suite.consul.start();
    }
  });

  it('start-up against a hung agent goes on within the start-up bound, on the cached endpoints', async () => {
    const a = await backend();
    // Its own agent: the hang applies to the next request, which must be this mesh's first read.
    const hanging = await startConsulEmulator();
    const cacheDir = join(dir(), 'hung');
    try {
      await hanging.catalog.register(registrationOf(a, 'hung', 'hung-a'));
      const services: Services = { hung: { discovery: { type: 'consul' } } };
      const first = await createMesh({ service: 'caller', consul: { url: hanging.url }, config: { services }, cacheDir });
      await eventually(async () => (await savedLists(cacheDir, 'hung')).includes(`"port":${a.port}`), 'the list on disk');
      await first.close();

      hanging.faults.hangNext(1);
      const started = performance.now();
      const second = suite.mesh(await createMesh({ service: 'caller', consul: { url: hanging.url }, config: { services }, cacheDir }));
      const took = performance.now() - started;
      assert.ok(took >= STARTUP_WAIT_MS - 50 && took < STARTUP_WAIT_MS + 1500, `createMesh took ${Math.round(took)} ms`);
      const state = serviceState(second, 'hung');
      assert.equal(state.discovery.endpointsFrom, 'cache');
      assert.match(state.discoveryError ?? '', /did not answer the first health read of hung within 2000 ms.*using 1 endpoint from the cache/);
      assert.equal(state.discovery.lastError, state.discoveryError);
      assert.equal(await portOf(second.client('hung').request({ path: '/' })), a.port);
      await second.close();
    } finally {
      await hanging.close();
    }
  });

  it('start-up with Consul down and no cache: no endpoints and state() says why; they appear when Consul returns', async () => {
    const a = await backend();
    await suite.consul.catalog.register(registrationOf(a, 'late', 'late-a'));
    await suite.consul.stop();
    let mesh: Mesh;
    try {
      mesh = await meshFor({ late: { discovery: { type: 'consul' } } });
      const state = serviceState(mesh, 'late');
      assert.equal(state.discovery.endpointsFrom, 'none');
      assert.match(state.discoveryError ?? '', /no endpoints yet/);
      await expectMeshError(mesh.client('late').request({ path: '/' }), 'MESH_NO_ENDPOINTS');
    } finally {
      await suite.consul.start();
    }
    await eventually(() => endpointIds(mesh, 'late').length === 1, 'the endpoints once Consul answers', 15_000);
    assert.equal(await portOf(mesh.client('late').request({ path: '/' })), a.port);
  });
});

describe('Consul discovery and the ACL token', () => {
  it('a refused token gives a clear error in state() and events, and the token appears in neither', async () => {
    const token = 'b1gS3cretT0ken-do-not-leak';
    const consul = await startConsulEmulator({ acl: { defaultPolicy: 'deny', tokens: { 'the-real-one': { policy: 'read' } } } });
    const errors: string[] = [];
    const mesh = await createMesh({
      service: 'caller',
      consul: { url: consul.url, token },
      config: { services: { secret: { discovery: { type: 'consul' } } } },
    });
    try {
      mesh.on('control-error', (event) => errors.push(`${event.source} ${event.error.message} ${String(event.error.cause)}`));
      const state = serviceState(mesh, 'secret');
      assert.match(state.discoveryError ?? '', /403/);
      assert.match(String(state.discovery.lastError), /403/);
      await eventually(() => errors.length > 0, 'a control-error event from the retrying watch', 10_000);
      assert.ok(!JSON.stringify(mesh.state()).includes(token), 'the token is not in state()');
      for (const message of errors) assert.ok(!message.includes(token), `the token is not in: ${message}`);
      assert.ok(consul.requests.some((r) => r.path === '/v1/health/service/secret' && r.token), 'the token went to Consul (as a header)');
      assert.ok(consul.requests.every((r) => !r.query.includes(token)), 'and never in a query string');
    } finally {
      await mesh.close();
      await consul.close();
    }
  });
});

/** The text of every list the cacheDir keeps for `service` (one file per question: `<service>-<hash>.json`). */
async function savedLists(cacheDir: string, service: string): Promise<string> {
  const dir = join(cacheDir, 'endpoints');
  const names = (await readdir(dir).catch(() => [] as string[])).filter((name) => name.startsWith(`${service}-`) && name.endsWith('.json'));
  const texts = await Promise.all(names.map((name) => readFile(join(dir, name), 'utf8').catch(() => '')));
  return texts.join('\n');
}
