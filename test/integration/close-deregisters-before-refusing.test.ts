/**
 * Regression test (DESIGN §1 shutdown order): close() set the mesh closed BEFORE it
 * deregistered from Consul, so while the agent took this instance out, the calls its handlers
 * made were refused with MESH_CLOSED: the instance still received traffic (callers had not
 * seen the deregistration yet) but could not serve it. The order is now: deregister (still
 * answering and admitting), then stop admitting, drain, close.
 */
import assert from 'node:assert/strict';
import { it, type TestContext } from 'node:test';
import { createMesh } from '../../src/index.ts';
import { consulForTests, emulatorOnly } from '../support/consul.ts';
import { startBackend } from '../support/http-backend.ts';
import { expectMeshError } from '../support/mesh-error.ts';
import { eventually } from '../support/waits.ts';

/** A mesh registered in the emulator as 'checkout', calling one backend as 'payments'; undefined against a real agent. */
async function registeredMesh(t: TestContext) {
  const consul = await consulForTests();
  const backend = await startBackend();
  t.after(async () => {
    await backend.close();
    await consul.close();
  });
  const emulator = emulatorOnly(t, consul);
  if (emulator === undefined) return undefined;
  const mesh = await createMesh({ service: 'checkout', consul: { url: consul.url }, config: { services: { payments: { endpoints: [backend.address] } } } });
  await mesh.register({ name: 'checkout', port: 8080, address: '127.0.0.1', check: { ttl: '30s' } });
  return { emulator, backend, mesh };
}

it('close(): calls are still admitted while the instance is being deregistered, refused after', async (t) => {
  const set = await registeredMesh(t);
  if (set === undefined) return;
  const { emulator, backend, mesh } = set;
  const before = emulator.requests.length;
  // The deregistration hangs (a slow agent): close() waits for it up to its 2 s bound.
  emulator.faults.hangNext(1);
  const closing = mesh.close();
  await eventually(() => emulator.requests.slice(before).some((r) => r.path.includes('/deregister/')), 'the deregistration was sent', 2000);
  const res = await mesh.client('payments').request({ path: '/during-deregistration' });
  assert.equal(res.statusCode, 200, 'a call made while deregistering is admitted and answered');
  await res.body.text();
  await assert.rejects(mesh.register({ name: 'late', port: 8081 }), { code: 'MESH_CLOSED' }, 'no new registration once close() began');
  await closing;
  await expectMeshError(mesh.client('payments').request({ path: '/after-close' }), 'MESH_CLOSED');
  assert.deepEqual(backend.received.map((r) => r.url), ['/during-deregistration']);
});

it('deregister(): out of Consul while the mesh keeps calling; close() after it does not deregister again', async (t) => {
  const set = await registeredMesh(t);
  if (set === undefined) return;
  const { emulator, mesh } = set;
  const deregistrations = () => emulator.requests.filter((r) => r.path.includes('/deregister/')).length;
  await mesh.deregister();
  assert.equal(deregistrations(), 1);
  const res = await mesh.client('payments').request({ path: '/still-calling' });
  assert.equal(res.statusCode, 200);
  await res.body.text();
  await assert.rejects(mesh.register({ name: 'again', port: 8081 }), /refused because deregister\(\) was called/);
  await mesh.close();
  assert.equal(deregistrations(), 1, 'close() reuses the deregistration already done');
});
