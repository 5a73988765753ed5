/** End to end through createMesh: a fixed concurrency limit refuses the excess without sending. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Mesh } from '../../src/index.ts';
import type { Backend } from '../support/http-backend.ts';
import { startOneBackendMesh } from '../support/one-backend-mesh.ts';
import { statusOrCode } from '../support/outcome.ts';

describe('concurrency limit through the mesh', () => {
  let backend: Backend;
  let mesh: Mesh;
  before(async () => {
    ({ backend, mesh } = await startOneBackendMesh({ concurrency: { max: 2 } }, async (_req, res) => {
      await sleep(60);
      res.end('ok');
    }));
  });
  after(async () => {
    await mesh.close();
    await backend.close();
  });

  it('lets `max` calls run at once and refuses the others', async () => {
    const codes = await Promise.all(
      [1, 2, 3, 4].map(() => statusOrCode(mesh.client('payments').request({ method: 'GET', path: '/' }))),
    );
    assert.deepEqual(codes.sort(), [200, 200, 'MESH_CONCURRENCY_LIMIT', 'MESH_CONCURRENCY_LIMIT']);
    assert.equal(backend.received.length, 2);
    const services = mesh.state().services as Record<string, { concurrency: { inFlight: number; limit: number } }>;
    assert.deepEqual([services.payments?.concurrency.inFlight, services.payments?.concurrency.limit], [0, 2]);
  });
});
