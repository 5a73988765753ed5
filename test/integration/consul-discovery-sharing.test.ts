/**
 * One blocking query per watched service per process (DESIGN §4): several clients, several
 * services of one config naming the same Consul service, and two meshes in one process all
 * share one health watch; the query count does not grow with them, and the last mesh to
 * close ends it. Counted both in the process (openBlockingQueries) and at the agent, beside
 * the three queries of Consul's routing entry lists (one per kind, per agent per process,
 * whatever the number of services: routing/consul-entry-lists.ts), which end with the last mesh too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openBlockingQueries } from '../../src/consul/blocking-watch.ts';
import { createMesh } from '../../src/index.ts';
import { startConsulEmulator } from '../support/consul-emulator/index.ts';
import { consulSuite } from '../support/consul-suite.ts';
import { sleep } from '../support/waits.ts';
import { endpointIds, eventually, portOf, registrationOf, type Services } from './consul-discovery-harness.ts';

/** The routing entry lists' queries (service-router, service-splitter, service-resolver). */
const ENTRY_LISTS = 3;

describe('Consul discovery shares one blocking query per service per process', () => {
  // The agent's count of parked queries is the emulator's; a real agent does not report it.
  const suite = consulSuite(startConsulEmulator);

  it('many clients and two meshes watching one service hold one query; the last mesh to close ends it', async () => {
    const [a, b] = [await suite.backend(), await suite.backend()];
    await suite.consul.catalog.register(registrationOf(a, 'shared-api', 'shared-a'));
    const baseline = openBlockingQueries();
    // Two services of one config ask the same question of Consul.
    const services: Services = {
      api: { discovery: { type: 'consul', service: 'shared-api' } },
      'api-retrying': { discovery: { type: 'consul', service: 'shared-api' }, retry: { attempts: 3 } },
    };
    const meshes = [
      await createMesh({ service: 'one', consul: { url: suite.consul.url }, config: { services } }),
      await createMesh({ service: 'two', consul: { url: suite.consul.url }, config: { services } }),
    ];
    try {
      const clients = meshes.flatMap((mesh) => [mesh.client('api'), mesh.client('api'), mesh.client('api-retrying')]);
      for (const client of clients) assert.equal(await portOf(client.request({ path: '/' })), a.port);
      assert.equal(openBlockingQueries() - baseline, 1 + ENTRY_LISTS, 'one health query in the process');
      await eventually(() => suite.consul.openBlockingQueries === 1 + ENTRY_LISTS, 'one health query parked at the agent');

      // A change wakes the one query; every mesh and service sees it, and it parks again alone.
      await suite.consul.catalog.register(registrationOf(b, 'shared-api', 'shared-b'));
      for (const mesh of meshes) {
        for (const name of ['api', 'api-retrying']) await eventually(() => endpointIds(mesh, name).length === 2, `${name} to see b`);
      }
      await sleep(100);
      assert.equal(suite.consul.openBlockingQueries, 1 + ENTRY_LISTS, 'still one health query parked at the agent');
      assert.equal(openBlockingQueries() - baseline, 1 + ENTRY_LISTS);
      const reads = suite.consul.requests.filter((r) => r.path === '/v1/health/service/shared-api');
      assert.ok(reads.length <= 4, `the agent saw ${reads.length} health reads, not one per client or mesh`);

      await meshes[0]!.close();
      assert.equal(openBlockingQueries() - baseline, 1 + ENTRY_LISTS, 'the other mesh still watches');
      await suite.consul.catalog.deregister('shared-a');
      await eventually(() => endpointIds(meshes[1]!, 'api').length === 1, 'the remaining mesh to hear of it');
    } finally {
      for (const mesh of meshes) await mesh.close();
    }
    assert.equal(openBlockingQueries(), baseline, 'the last mesh to close ended the query');
    await eventually(() => suite.consul.openBlockingQueries === 0, 'no query parked at the agent');
  });

  it('another tag set or passing filter is another question, so another query', async () => {
    const c = await suite.backend();
    await suite.consul.catalog.register(registrationOf(c, 'questions', 'questions-c', { Tags: ['prod'] }));
    const baseline = openBlockingQueries();
    const mesh = await createMesh({
      service: 'asker',
      consul: { url: suite.consul.url },
      config: {
        services: {
          all: { discovery: { type: 'consul', service: 'questions' } },
          prod: { discovery: { type: 'consul', service: 'questions', tags: ['prod'] } },
          'prod-again': { discovery: { type: 'consul', service: 'questions', tags: ['PROD'] } },
          warning: { discovery: { type: 'consul', service: 'questions', passingOnly: false } },
        },
      },
    });
    try {
      // Consul matches tags case-insensitively: ['PROD'] asks what ['prod'] asks.
      assert.equal(openBlockingQueries() - baseline, 3 + ENTRY_LISTS);
      for (const name of ['all', 'prod', 'prod-again', 'warning']) assert.deepEqual(endpointIds(mesh, name), [c.address]);
    } finally {
      await mesh.close();
    }
    assert.equal(openBlockingQueries(), baseline);
  });
});
