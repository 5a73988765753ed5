/**
 * Consul discovery through a whole mesh, against the emulator (or a real agent when
 * CONSUL_HTTP_ADDR is set), with real loopback backends registered as instances: endpoints
 * follow registrations; an instance failing its check leaves the set and drains (its call in
 * flight completes, new calls go elsewhere); tags filter; an instance without an address
 * takes its node's; weights come from Consul.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createMesh, type Mesh } from '../../src/index.ts';
import { consulForTests } from '../support/consul.ts';
import { consulSuite } from '../support/consul-suite.ts';
import type { Backend } from '../support/http-backend.ts';
import { testCertificates } from '../support/tls.ts';
import { endpointIds, eventually, portOf, registrationOf, type Services, serviceState, startHoldingBackend } from './consul-discovery-harness.ts';

describe('Consul discovery', () => {
  const suite = consulSuite(consulForTests);
  const backend = (): Promise<Backend> => suite.backend();
  const meshFor = async (services: Services): Promise<Mesh> => suite.mesh(await createMesh({ service: 'caller', consul: { url: suite.consul.url }, config: { services } }));

  it('endpoints follow registrations: an instance registered later gets calls, a deregistered one none', async () => {
    const [a, b, c] = [await backend(), await backend(), await backend()];
    await suite.consul.catalog.register(registrationOf(a, 'follow', 'follow-a'));
    await suite.consul.catalog.register(registrationOf(b, 'follow', 'follow-b'));
    const mesh = await meshFor({ follow: { discovery: { type: 'consul' }, balancer: 'round-robin' } });
    const api = mesh.client('follow');
    assert.deepEqual(endpointIds(mesh, 'follow'), [a.address, b.address].sort());

    await suite.consul.catalog.register(registrationOf(c, 'follow', 'follow-c'));
    await eventually(() => endpointIds(mesh, 'follow').length === 3, 'the third instance');
    const ports = new Set<number>();
    for (let i = 0; i < 9; i++) ports.add(await portOf(api.request({ path: '/' })));
    assert.deepEqual([...ports].sort(), [a.port, b.port, c.port].sort());

    await suite.consul.catalog.deregister('follow-a');
    await eventually(() => !endpointIds(mesh, 'follow').includes(a.address), 'a to leave');
    const before = a.received.length;
    for (let i = 0; i < 10; i++) assert.notEqual(await portOf(api.request({ path: '/' })), a.port);
    assert.equal(a.received.length, before, 'no call reached the deregistered instance');
    assert.equal(serviceState(mesh, 'follow').discovery.endpointsFrom, 'consul');
  });

  it('an instance failing its check leaves the set: its call in flight completes, new calls go elsewhere', async (t) => {
    const sick = await suite.backend(startHoldingBackend);
    const well = await backend();
    await suite.consul.catalog.register(registrationOf(sick, 'drain', 'drain-sick'));
    await suite.consul.catalog.register(registrationOf(well, 'drain', 'drain-well'));
    const mesh = await meshFor({ drain: { discovery: { type: 'consul' }, balancer: 'round-robin', retry: false } });
    const api = mesh.client('drain');

    // Round robin over two: one of two held calls lands on the sick instance.
    const inFlight = [api.request({ path: '/hold' }), api.request({ path: '/hold' })];
    t.after(() => sick.release());
    await eventually(() => sick.held === 1, 'a call held by the instance about to fail');
    await suite.consul.catalog.setCheck('service:drain-sick', 'critical');
    await eventually(() => !endpointIds(mesh, 'drain').includes(sick.address), 'the failing instance to leave');

    const received = sick.received.length;
    for (let i = 0; i < 10; i++) assert.equal(await portOf(api.request({ path: '/' })), well.port);
    assert.equal(sick.received.length, received, 'no new call reached the failing instance');

    sick.release();
    const settled = await Promise.allSettled(inFlight.map((call) => portOf(call)));
    assert.deepEqual(
      settled.map((s) => s.status),
      ['fulfilled', 'fulfilled'],
      'the call in flight on the leaving instance completed',
    );
    assert.ok(settled.some((s) => s.status === 'fulfilled' && s.value === sick.port));
  });

  it('tags filter: only instances carrying every tag are used', async () => {
    const [prod, canary, both] = [await backend(), await backend(), await backend()];
    await suite.consul.catalog.register(registrationOf(prod, 'tagged', 'tagged-prod', { Tags: ['prod'] }));
    await suite.consul.catalog.register(registrationOf(canary, 'tagged', 'tagged-canary', { Tags: ['canary'] }));
    await suite.consul.catalog.register(registrationOf(both, 'tagged', 'tagged-both', { Tags: ['prod', 'eu'] }));
    const mesh = await meshFor({
      prod: { discovery: { type: 'consul', service: 'tagged', tags: ['prod'] } },
      'prod-eu': { discovery: { type: 'consul', service: 'tagged', tags: ['prod', 'eu'] } },
    });
    assert.deepEqual(endpointIds(mesh, 'prod'), [prod.address, both.address].sort());
    assert.deepEqual(endpointIds(mesh, 'prod-eu'), [both.address]);
    for (let i = 0; i < 6; i++) assert.notEqual(await portOf(mesh.client('prod').request({ path: '/' })), canary.port);
  });

  it('an instance registered without an address is reached at its node address', async () => {
    const nodeOnly = await backend();
    await suite.consul.catalog.register({ ...registrationOf(nodeOnly, 'node-address', 'node-address-1'), Address: '' });
    const mesh = await meshFor({ 'node-address': { discovery: { type: 'consul' } } });
    // The emulator's node (a real agent's too, on this machine) is 127.0.0.1.
    assert.deepEqual(endpointIds(mesh, 'node-address'), [`127.0.0.1:${nodeOnly.port}`]);
    assert.equal(await portOf(mesh.client('node-address').request({ path: '/' })), nodeOnly.port);
  });

  it('a service with tls reaches its Consul instances over https (Consul registers no scheme)', async (t) => {
    const certs = testCertificates();
    const server = createHttpsServer({ cert: certs.serverCert, key: certs.serverKey }, (_req, res) => res.end('over tls'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    await suite.consul.catalog.register({ Name: 'secure', ID: 'secure-1', Address: '127.0.0.1', Port: port });
    const dir = await mkdtemp(join(tmpdir(), 'meshlet-consul-tls-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'ca.pem'), certs.ca);
    const mesh = suite.mesh(await createMesh({ service: 'caller', consul: { url: suite.consul.url }, baseDir: dir, config: { services: { secure: { discovery: { type: 'consul' }, tls: { ca: 'ca.pem' } } } } }));
    assert.deepEqual(endpointIds(mesh, 'secure'), [`https://127.0.0.1:${port}`]);
    const response = await mesh.client('secure').request({ path: '/' });
    assert.equal(await response.body.text(), 'over tls');
  });

  it('weights come from Weights.Passing, and Weights.Warning for a warning instance when passingOnly is false', async () => {
    const [heavy, light] = [await backend(), await backend()];
    await suite.consul.catalog.register(registrationOf(heavy, 'weighted', 'weighted-heavy', { Weights: { Passing: 9, Warning: 3 } }));
    await suite.consul.catalog.register(registrationOf(light, 'weighted', 'weighted-light'));
    const mesh = await meshFor({ weighted: { discovery: { type: 'consul', passingOnly: false }, balancer: 'random' } });
    const weightOf = (port: number) => serviceState(mesh, 'weighted').endpoints.find((e) => e.id.endsWith(`:${port}`))?.weight;
    assert.equal(weightOf(heavy.port), 9);
    assert.equal(weightOf(light.port), 1);

    const counts = new Map<number, number>();
    for (let i = 0; i < 200; i++) {
      const port = await portOf(mesh.client('weighted').request({ path: '/' }));
      counts.set(port, (counts.get(port) ?? 0) + 1);
    }
    // 9:1 expected (180:20); far from 1:1 under any fair sampling of 200 calls.
    assert.ok((counts.get(heavy.port) ?? 0) > 140, `heavy got ${counts.get(heavy.port)} of 200`);

    await suite.consul.catalog.setCheck('service:weighted-heavy', 'warning');
    await eventually(() => weightOf(heavy.port) === 3, 'the warning weight');
  });
});
