/**
 * Fastify without meshlet's shutdown(): a bare `app.close()` (what a signal handler or a
 * test harness usually calls) still deregisters from Consul before the server stops, then
 * closes the mesh once Fastify has drained, via the plugin's preClose and onClose hooks.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import Fastify from 'fastify';
import { meshlet } from '../../adapters/fastify/index.ts';
import { createMesh } from '../../src/index.ts';
import { call } from '../support/consul-emulator/wire-client.ts';
import { consulForTests } from '../support/consul.ts';
import { expectMeshError } from '../support/mesh-error.ts';

it('app.close() alone: deregistered, then the mesh is closed', async (t) => {
  const consul = await consulForTests();
  t.after(() => consul.close());
  const mesh = await createMesh({ service: 'b', consul: { url: consul.url }, config: { services: { c: { endpoints: ['127.0.0.1:1'] } } } });
  const app = Fastify();
  await app.register(meshlet, { mesh });
  app.get('/x', async () => 'ok');
  await app.listen({ port: 0, host: '127.0.0.1' });
  await mesh.register({ name: 'b', port: 8080, address: '127.0.0.1', check: { ttl: '30s' } });
  await app.close();
  const instances = (await call(consul.url, 'GET', '/v1/health/service/b')).json<unknown[]>();
  assert.equal(instances.length, 0, 'deregistered');
  assert.equal(app.server.listening, false);
  await expectMeshError(mesh.client('c').request({ path: '/' }), 'MESH_CLOSED');
});
