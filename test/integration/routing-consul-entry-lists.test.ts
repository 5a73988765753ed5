/**
 * Consul's routing entries cost three blocking queries per agent per process, whatever the
 * number of services (routing/consul-entry-lists.ts): read by default for every
 * Consul-discovered service, shared by every service and mesh, never growing with the entries
 * a translation follows, and ended when the last service taking them leaves the config or its
 * mesh closes. A service without entries stays unrouted. Against the emulator.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openBlockingQueries } from '../../src/consul/blocking-watch.ts';
import { createMesh, type Mesh } from '../../src/index.ts';
import { sharedEntryWatches } from '../../src/routing/consul-entry-lists.ts';
import { startConsulEmulator } from '../support/consul-emulator/index.ts';
import { call } from '../support/consul-emulator/wire-client.ts';
import { consulSuite } from '../support/consul-suite.ts';
import { eventually } from '../support/waits.ts';
import { registrationOf } from './consul-discovery-harness.ts';

const NAMES = ['a', 'b', 'c', 'd', 'e'];
const routingOf = (mesh: Mesh, name: string): string | null | undefined => (mesh.state().services as Record<string, { routing: string | null }>)[name]?.routing;

describe("Consul's routing entries: three queries per agent, shared, ended with their last service", () => {
  // Counting parked queries needs the emulator (a real agent does not report them).
  const suite = consulSuite(startConsulEmulator);
  let dir: string | undefined;
  after(() => (dir === undefined ? undefined : rm(dir, { recursive: true, force: true })));

  it('five Consul services in two meshes: one health query each and three entry lists in all; only the one with entries is routed', async () => {
    const backend = await suite.backend();
    for (const name of NAMES) await suite.consul.catalog.register(registrationOf(backend, name, `${name}-1`, { Meta: { version: '1' } }));
    const put = (entry: unknown) => call(suite.consul.url, 'PUT', '/v1/config', { body: JSON.stringify(entry) });
    await put({ Kind: 'service-resolver', Name: 'a', DefaultSubset: 'one', Subsets: { one: { Filter: 'Service.Meta.version == 1' } } });
    // Entries of services no mesh calls are listed too, and route nothing here.
    await put({ Kind: 'service-router', Name: 'elsewhere', Routes: [{ Match: { HTTP: { PathPrefix: '/x' } } }] });
    const baseline = openBlockingQueries();
    const services = Object.fromEntries(NAMES.map((name) => [name, { discovery: { type: 'consul' as const } }]));
    const meshes = [
      await createMesh({ service: 'one', consul: { url: suite.consul.url }, config: { services } }),
      await createMesh({ service: 'two', consul: { url: suite.consul.url }, config: { services } }),
    ];
    try {
      assert.equal(openBlockingQueries() - baseline, NAMES.length + 3);
      assert.equal(sharedEntryWatches(), 1);
      for (const mesh of meshes) assert.deepEqual(NAMES.map((name) => routingOf(mesh, name)), ['consul', null, null, null, null]);
      // A new entry wakes the three lists' one watcher; every service of both meshes sees it and no query is added.
      await put({ Kind: 'service-resolver', Name: 'b', DefaultSubset: 'one', Subsets: { one: { Filter: 'Service.Meta.version == 1' } } });
      for (const mesh of meshes) await eventually(() => routingOf(mesh, 'b') === 'consul', 'b routed by its new resolver');
      assert.equal(openBlockingQueries() - baseline, NAMES.length + 3);
    } finally {
      for (const mesh of meshes) await mesh.close();
    }
    assert.equal(openBlockingQueries(), baseline, 'the last mesh to close ended the lists');
    assert.equal(sharedEntryWatches(), 0);
  });

  it('the lists end when the last service taking them leaves the config, or opts out', async () => {
    const backend = await suite.backend();
    await suite.consul.catalog.register(registrationOf(backend, 'pushed', 'pushed-1'));
    dir = await mkdtemp(join(tmpdir(), 'meshlet-entry-lists-'));
    const file = join(dir, 'mesh.json');
    const push = async (discovery: Record<string, unknown> | undefined): Promise<void> => {
      await writeFile(file, JSON.stringify({ services: { static: { endpoints: [`127.0.0.1:${backend.port}`] }, ...(discovery === undefined ? {} : { pushed: { discovery } }) } }));
    };
    await push({ type: 'consul' });
    const mesh = suite.mesh(await createMesh({ service: 'pusher', consul: { url: suite.consul.url }, control: `file:${file}` }));
    assert.equal(sharedEntryWatches(), 1);
    await push({ type: 'consul', configEntries: false });
    await eventually(() => sharedEntryWatches() === 0, 'the lists to end when the service opts out');
    await push({ type: 'consul' });
    await eventually(() => sharedEntryWatches() === 1, 'the lists to start again');
    await push(undefined);
    await eventually(() => sharedEntryWatches() === 0 && routingOf(mesh, 'pushed') === undefined, 'the lists to end when the service leaves');
  });

  it('regression: refused entries are reported once per version, not again on every config apply that translates them anew', { timeout: 20_000 }, async () => {
    const backend = await suite.backend();
    await suite.consul.catalog.register(registrationOf(backend, 'refused', 'refused-1'));
    const put = (entry: unknown) => call(suite.consul.url, 'PUT', '/v1/config', { body: JSON.stringify(entry) });
    await put({ Kind: 'service-splitter', Name: 'refused', Splits: [{ Weight: 60 }, { Weight: 50, Service: 'other' }] });
    dir ??= await mkdtemp(join(tmpdir(), 'meshlet-entry-lists-'));
    const file = join(dir, 'refused.json');
    const write = (timeout: string) => writeFile(file, JSON.stringify({ services: { refused: { discovery: { type: 'consul' } }, other: { endpoints: [`127.0.0.1:${backend.port}`], timeout } } }));
    await write('1s');
    const mesh = suite.mesh(await createMesh({ service: 'refuser', consul: { url: suite.consul.url }, control: `file:${file}` }));
    const reports: string[] = [];
    mesh.on('config-rejected', (event) => {
      if (event.source === 'consul-entries:refused') reports.push(event.issues.map((i) => i.message).join('; '));
    });
    const applied = new Promise<void>((resolve) => mesh.on('config', () => resolve()));
    await write('2s');
    await applied;
    await put({ Kind: 'service-splitter', Name: 'refused', Splits: [{ Weight: 60 }, { Weight: 30, Service: 'other' }] });
    await eventually(() => reports.length > 0, 'the new refusal');
    assert.deepEqual(reports, ['the sum of all split weights must be 100, not 90.000000'], 'the push re-reported nothing; the changed entry is reported once');
    // A new version of the entry refused for the same reason is reported again: it is news.
    await put({ Kind: 'service-splitter', Name: 'refused', Splits: [{ Weight: 60 }, { Weight: 30, Service: 'other' }], Meta: { rev: '2' } });
    await eventually(() => reports.length === 2, 'the rewritten entry to be reported');
  });
});
