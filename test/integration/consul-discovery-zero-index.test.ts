/**
 * Consul discovery through a whole mesh while the agent answers `X-Consul-Index: 0` (a broken
 * agent or proxy; Consul itself never sends 0). Regression: BlockingWatch took 0 as 1 and,
 * the index then never "moving", delivered only the first change after the switch; now an
 * index-0 answer is delivered and the health watch's content comparison decides.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { watchHealth } from '../../src/discovery/consul-health-watch.ts';
import { createMesh } from '../../src/index.ts';
import { consulForTests, emulatorOnly } from '../support/consul.ts';
import { consulSuite } from '../support/consul-suite.ts';
import { endpointIds, eventually, registrationOf, serviceState } from './consul-discovery-harness.ts';

describe('Consul discovery under index 0', () => {
  const suite = consulSuite(consulForTests);

  it('regression: with an agent answering index 0, every health change is delivered (not only the first after the switch), identical answers emit no endpoints event, the loop stays rate-limited', async (t) => {
    const emulator = emulatorOnly(t, suite.consul);
    if (emulator === undefined) return;
    const [a, b, c] = [await suite.backend(), await suite.backend(), await suite.backend()];
    await suite.consul.catalog.register(registrationOf(a, 'zeroed', 'zeroed-a'));
    const mesh = suite.mesh(await createMesh({ service: 'caller', consul: { url: suite.consul.url }, config: { services: { zeroed: { discovery: { type: 'consul' } } } } }));
    const events: number[] = [];
    const off = mesh.on('endpoints', (event) => {
      if (event.service === 'zeroed') events.push(event.endpoints.length);
    });
    emulator.faults.zeroIndex(true);
    try {
      // The parked round wakes on the first change; from then on every answer says index 0.
      await suite.consul.catalog.register(registrationOf(b, 'zeroed', 'zeroed-b'));
      await eventually(() => endpointIds(mesh, 'zeroed').length === 2, 'the first change under index 0');
      await suite.consul.catalog.register(registrationOf(c, 'zeroed', 'zeroed-c'));
      await eventually(() => endpointIds(mesh, 'zeroed').length === 3, 'the second change under index 0');
      assert.deepEqual(events, [2, 3], 'one endpoints event per change');

      const healthRounds = (): number => emulator.requests.filter((r) => r.path === '/v1/health/service/zeroed').length;
      const roundsBefore = healthRounds();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const rounds = healthRounds() - roundsBefore;
      assert.deepEqual(events, [2, 3], 'a second of identical index-0 answers emits no endpoints event');
      assert.ok(rounds >= 2, `${rounds} health rounds in 1 s: the agent answers at once, so the watch keeps asking`);
      assert.ok(rounds <= 14, `${rounds} health rounds in 1 s: one per 100 ms after a burst of 3`);
      assert.equal(serviceState(mesh, 'zeroed').discoveryError, null);
    } finally {
      emulator.faults.zeroIndex(false);
      off();
    }
  });

  it('regression: the shared health watch hands its subscribers an identical index-0 answer once, not every round', async (t) => {
    const emulator = emulatorOnly(t, suite.consul);
    if (emulator === undefined) return;
    const backend = await suite.backend();
    await suite.consul.catalog.register(registrationOf(backend, 'repeated', 'repeated-a'));
    emulator.faults.zeroIndex(true);
    const changes: number[] = [];
    const subscription = watchHealth(
      { agent: { url: suite.consul.url }, service: 'repeated', tags: [], passingOnly: true, datacenter: undefined },
      { change: (entries) => changes.push(entries.length), error: (error) => assert.fail(error) },
    );
    try {
      await subscription.ready;
      const roundsBefore = emulator.requests.filter((r) => r.path === '/v1/health/service/repeated').length;
      await new Promise((resolve) => setTimeout(resolve, 600));
      const rounds = emulator.requests.filter((r) => r.path === '/v1/health/service/repeated').length - roundsBefore;
      assert.ok(rounds >= 2, `${rounds} rounds: the agent answered at once, again and again`);
      assert.deepEqual(changes, [1], 'the same instances, answered with index 0 round after round, are one change');
    } finally {
      emulator.faults.zeroIndex(false);
      await subscription.close();
    }
  });
});
