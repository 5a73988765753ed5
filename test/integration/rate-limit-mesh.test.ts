/** End to end through createMesh: a local rate limit sheds without sending, visible in state. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Mesh } from '../../src/index.ts';
import type { Backend } from '../support/http-backend.ts';
import { startOneBackendMesh } from '../support/one-backend-mesh.ts';
import { statusOrCode } from '../support/outcome.ts';

describe('rate limit through the mesh', () => {
  let backend: Backend;
  let mesh: Mesh;
  before(async () => {
    ({ backend, mesh } = await startOneBackendMesh({ rateLimit: { rps: 1, burst: 2 } }));
  });
  after(async () => {
    await mesh.close();
    await backend.close();
  });

  it('admits the burst, refuses the rest with MESH_RATE_LIMITED', async () => {
    let shed = 0;
    mesh.on('shed', () => shed++);
    const codes = [];
    for (let i = 0; i < 4; i++) {
      codes.push(await statusOrCode(mesh.client('payments').request({ method: 'GET', path: '/' })));
    }
    assert.deepEqual(codes, [200, 200, 'MESH_RATE_LIMITED', 'MESH_RATE_LIMITED']);
    assert.equal(backend.received.length, 2);
    assert.equal(shed, 2);
    const services = mesh.state().services as Record<string, { 'rate-limit': { shed: number } }>;
    assert.equal(services.payments?.['rate-limit'].shed, 2);
  });
});
