/**
 * Consul KV as the control plane, through whole meshes with real loopback backends: a push
 * reaches every mesh within a second, over one blocking query per process however many meshes
 * read the prefix; a malformed push (bad JSON, bad YAML, an invalid policy) is rejected naming
 * the KV key and the path inside it, while calls keep succeeding on the old config.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createMesh, type Mesh } from '../../src/index.ts';
import { openBlockingQueries } from '../../src/consul/blocking-watch.ts';
import { sharedKvWatches } from '../../src/control/consul-kv-watch.ts';
import { consulForTests } from '../support/consul.ts';
import { consulSuite } from '../support/consul-suite.ts';
import type { Backend } from '../support/http-backend.ts';
import { configState, consulMeshOptions, eventually, nextEvent, outcome, portBackend, traffic, uniquePrefix } from './consul-control-harness.ts';

describe('Consul KV control', () => {
  const suite = consulSuite(consulForTests);
  let a: Backend;
  let b: Backend;
  before(async () => {
    a = await suite.backend(portBackend);
    b = await suite.backend(portBackend);
  });
  const mesh = async (prefix: string): Promise<Mesh> => suite.mesh(await createMesh(consulMeshOptions(suite.consul, prefix)));

  it('a KV push applies in every one of 5 meshes within 1 s, over one blocking query', async () => {
    const prefix = uniquePrefix();
    await suite.consul.kv.put(`${prefix}/services/api`, JSON.stringify({ endpoints: [a.address] }));
    const queriesBefore = openBlockingQueries();
    const watchesBefore = sharedKvWatches();
    const fleet = await Promise.all([1, 2, 3, 4, 5].map(() => mesh(prefix)));
    for (const m of fleet) assert.equal(await outcome(m, 'api'), a.port);
    // Five meshes, one prefix: one shared watch, one blocking query in this process.
    assert.equal(sharedKvWatches() - watchesBefore, 1);
    assert.equal(openBlockingQueries() - queriesBefore, 1);

    const applied = fleet.map((m) => nextEvent(m, 'config', (event) => event.changedServices.includes('api'), 1000));
    const pushedAt = performance.now();
    await suite.consul.kv.put(`${prefix}/services/api`, `endpoints:\n  - ${b.address}\n`);
    await Promise.all(applied);
    const elapsed = performance.now() - pushedAt;
    assert.ok(elapsed < 1000, `applied in ${elapsed.toFixed(0)} ms`);
    for (const m of fleet) {
      assert.equal(await outcome(m, 'api'), b.port);
      assert.equal(configState(m).source, configState(m).control.source);
      assert.match(configState(m).control.source, new RegExp(`^consul://[^/]+/${prefix}$`));
    }
  });

  it('the shared watch is refcounted: a late mesh starts from what it knows, the last to close stops it', async () => {
    const prefix = uniquePrefix();
    await suite.consul.kv.put(`${prefix}/services/api`, JSON.stringify({ endpoints: [a.address] }));
    const queriesBefore = openBlockingQueries();
    const watchesBefore = sharedKvWatches();
    const first = await createMesh(consulMeshOptions(suite.consul, prefix));
    const second = await createMesh(consulMeshOptions(suite.consul, prefix));
    assert.equal(await outcome(second, 'api'), a.port, 'the late mesh got the current config');
    assert.equal(sharedKvWatches() - watchesBefore, 1);
    await first.close();
    assert.equal(sharedKvWatches() - watchesBefore, 1, 'still watched for the second mesh');
    const applied = nextEvent(second, 'config');
    await suite.consul.kv.put(`${prefix}/services/api`, JSON.stringify({ endpoints: [b.address] }));
    await applied;
    await second.close();
    assert.equal(sharedKvWatches(), watchesBefore);
    assert.equal(openBlockingQueries(), queriesBefore);
  });

  it('defaults and services keys merge as in a file: per-service over defaults over bootstrap', async () => {
    const prefix = uniquePrefix();
    await suite.consul.kv.put(`${prefix}/defaults`, JSON.stringify({ timeout: '150ms' }));
    await suite.consul.kv.put(`${prefix}/services/api`, JSON.stringify({ endpoints: [a.address] }));
    await suite.consul.kv.put(`${prefix}/services/patient`, JSON.stringify({ endpoints: [a.address], timeout: '2s' }));
    const m = await mesh(prefix);
    // The defaults' timeout acts on api; patient's own wins over it.
    assert.equal(await outcome(m, 'api', '/slow?ms=400'), 'MESH_TIMEOUT');
    assert.equal(await outcome(m, 'patient', '/slow?ms=400'), a.port);
  });

  const malformed: [string, (prefix: string) => [string, string], RegExp][] = [
    ['bad JSON', (prefix) => [`${prefix}/services/api`, '{"endpoints": ["127.0.0.1:1"], "timeout": '], /is not valid JSON at line 1/],
    ['bad YAML', (prefix) => [`${prefix}/services/api`, 'endpoints:\n  - 127.0.0.1:1\n timeout: [1s\n'], /YAML/],
    ['an invalid policy', (prefix) => [`${prefix}/services/api`, JSON.stringify({ endpoints: ['127.0.0.1:1'], retry: { attempts: 99 } })], /at most|≤ 10/],
    ['an unknown key under the prefix', (prefix) => [`${prefix}/service/api`, '{}'], /not part of meshlet's KV layout/],
  ];
  for (const [what, push, says] of malformed) {
    it(`${what} is rejected naming the key (and path), and traffic continues on the old config`, async () => {
      const prefix = uniquePrefix();
      await suite.consul.kv.put(`${prefix}/services/api`, JSON.stringify({ endpoints: [a.address], timeout: '150ms' }));
      const m = await mesh(prefix);
      const versionBefore = configState(m).version;
      const calls = traffic(() => outcome(m, 'api'));
      const rejected = nextEvent(m, 'config-rejected');
      const [key, value] = push(prefix);
      await suite.consul.kv.put(key, value);
      const event = await rejected;
      await calls.stop();

      const issue = event.issues.find((candidate) => candidate.path.startsWith(key));
      assert.ok(issue, `an issue at ${key}: ${JSON.stringify(event.issues)}`);
      assert.match(issue.message, says);
      if (what === 'an invalid policy') assert.equal(issue.path, `${key}: retry.attempts`);
      assert.match(event.error.message, new RegExp(key.replaceAll('/', '\\/')));
      const state = configState(m);
      assert.equal(state.version, versionBefore, 'nothing applied');
      assert.equal(state.lastRejected?.issues.some((i) => i.path === issue.path), true);
      assert.ok(state.rejections >= 1);
      // Calls kept succeeding on the old endpoints, and the old timeout still acts.
      assert.ok(calls.outcomes.length > 0);
      assert.deepEqual(new Set(calls.outcomes), new Set([a.port]));
      assert.equal(await outcome(m, 'api'), a.port);
      assert.equal(await outcome(m, 'api', '/slow?ms=400'), 'MESH_TIMEOUT');

      // The fix applies.
      const fixed = nextEvent(m, 'config');
      if (key.endsWith('/service/api')) await suite.consul.kv.delete(key);
      await suite.consul.kv.put(`${prefix}/services/api`, JSON.stringify({ endpoints: [b.address] }));
      await fixed;
      await eventually(async () => (await outcome(m, 'api')) === b.port, 'the fixed config in force');
    });
  }
});
