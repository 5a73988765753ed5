/**
 * MESH_UPSTREAM_FAILED says what to do once (issue 15): the transport's message carries the
 * advice for the failure it saw, and the caller's error adds the service and the attempts,
 * not a second copy of the advice ("check the endpoint is up and reachable (endpoint …);
 * check that its endpoints are up and reachable").
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { it } from 'node:test';
import { createMesh, isMeshError } from '../../src/index.ts';

it('MESH_UPSTREAM_FAILED gives one piece of advice, once', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const refused = `127.0.0.1:${(server.address() as { port: number }).port}`;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const mesh = await createMesh({ service: 'web', config: { services: { s: { endpoints: [refused], retry: { attempts: 3 } } } } });
  try {
    const error: unknown = await mesh.client('s').request({ method: 'GET', path: '/' }).then(
      () => assert.fail('a refused endpoint answered'),
      (caught: unknown) => caught,
    );
    assert.ok(isMeshError(error) && error.code === 'MESH_UPSTREAM_FAILED', String(error));
    assert.equal(error.message, `call to 's' failed after 3 attempts: Could not connect (ECONNREFUSED); check the endpoint is up and reachable (endpoint ${refused})`);
    assert.equal(error.message.match(/check/g)?.length, 1, 'one piece of advice');
  } finally {
    await mesh.close();
  }
});
