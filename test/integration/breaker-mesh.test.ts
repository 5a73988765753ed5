/** End to end through createMesh: the breaker opens on 5xx, fails fast, shows in state. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isMeshError, type Mesh } from '../../src/index.ts';
import type { Backend } from '../support/http-backend.ts';
import { startOneBackendMesh } from '../support/one-backend-mesh.ts';

describe('breaker through the mesh', () => {
  let backend: Backend;
  let mesh: Mesh;
  before(async () => {
    ({ backend, mesh } = await startOneBackendMesh({ retry: false, outlier: false, breaker: { errorRate: 0.5, minRequests: 3, window: '2s', openFor: '5s' } }, (_req, res) => {
      res.statusCode = 500;
      res.end('down');
    }));
  });
  after(async () => {
    await mesh.close();
    await backend.close();
  });

  it('opens after failures, then refuses without sending', async () => {
    const states: string[] = [];
    mesh.on('breaker', (e) => states.push(e.state));
    for (let i = 0; i < 3; i++) {
      const res = await mesh.client('payments').request({ method: 'GET', path: '/' });
      assert.equal(res.statusCode, 500, 'a closed breaker hands the 5xx to the caller');
      await res.body.dump();
    }
    const error = await mesh.client('payments').request({ method: 'GET', path: '/' }).catch((e: unknown) => e);
    assert.ok(isMeshError(error));
    assert.equal(error.code, 'MESH_CIRCUIT_OPEN');
    assert.equal(backend.received.length, 3);
    assert.deepEqual(states, ['open']);
    const services = mesh.state().services as Record<string, { breaker: { state: string } }>;
    assert.equal(services.payments?.breaker.state, 'open');
  });
});
