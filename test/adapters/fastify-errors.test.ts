/**
 * The body an uncaught MeshError answers with on Fastify. The plugin's onError hook maps the
 * status (504/503/502), but Fastify's default error handler sends the error's message, which
 * names the service and its endpoints: the README said every adapter's body names the code
 * only. meshErrors() as the app's error handler does that; other errors go on to Fastify's.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import Fastify from 'fastify';
import { meshErrors, meshlet } from '../../adapters/fastify/index.ts';
import { createMesh } from '../../src/index.ts';
import { get } from './client.ts';

async function serve(withHandler: boolean): Promise<{ url: string; close(): Promise<void> }> {
  // A mesh each: a refused endpoint is ejected after its failures, which would change the next test's answer.
  const mesh = await createMesh({ service: 'b', config: { services: { c: { endpoints: ['127.0.0.1:1'] } } } });
  const app = Fastify();
  await app.register(meshlet, { mesh });
  if (withHandler) app.setErrorHandler(meshErrors());
  app.get('/mesh', async (request) => (await request.mesh.client('c').request({ path: '/' })).statusCode);
  app.get('/other', async () => {
    throw new Error('not a mesh error');
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, close: () => app.close() };
}

it("regression: with meshErrors() a MeshError's body names its code, not its message (the endpoint it failed on)", async () => {
  const app = await serve(true);
  try {
    const failed = await get(`${app.url}/mesh`);
    assert.equal(failed.status, 502, failed.body);
    assert.equal(failed.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(JSON.parse(failed.body), { error: 'MESH_UPSTREAM_FAILED', message: 'a service this one depends on failed' });
    const other = await get(`${app.url}/other`);
    assert.equal(other.status, 500);
    assert.equal(JSON.parse(other.body).message, 'not a mesh error', "anything else is Fastify's default handler's");
  } finally {
    await app.close();
  }
});

it('without it, the plugin still maps the status (the body is Fastify default error serialization)', async () => {
  const app = await serve(false);
  try {
    const failed = await get(`${app.url}/mesh`);
    assert.equal(failed.status, 502);
    assert.equal(JSON.parse(failed.body).code, 'MESH_UPSTREAM_FAILED');
  } finally {
    await app.close();
  }
});
