/** End to end through createMesh: an injected abort answers without reaching the server. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Mesh } from '../../src/index.ts';
import type { Backend } from '../support/http-backend.ts';
import { startOneBackendMesh } from '../support/one-backend-mesh.ts';

describe('fault injection through the mesh', () => {
  let backend: Backend;
  let mesh: Mesh;
  before(async () => {
    ({ backend, mesh } = await startOneBackendMesh({ retry: false, fault: { abort: { percent: 100, status: 418 } } }));
  });
  after(async () => {
    await mesh.close();
    await backend.close();
  });

  it('answers with the configured status and counts it', async () => {
    let faults = 0;
    mesh.on('fault', () => faults++);
    const res = await mesh.client('payments').request({ method: 'GET', path: '/' });
    assert.equal(res.statusCode, 418);
    assert.match(((await res.body.json()) as { error: string }).error, /fault injection/);
    assert.equal(backend.received.length, 0);
    assert.equal(faults, 1);
    const services = mesh.state().services as Record<string, { fault: { aborts: number } }>;
    assert.equal(services.payments?.fault.aborts, 1);
  });
});
