/**
 * Regression (a user trap): a service whose discovery fails has no endpoints, and every call
 * failed MESH_NO_ENDPOINTS saying "check its discovery config … and that instances are
 * registered", while the real cause (`discovery: { type: 'consul' }` with no Consul agent
 * configured; a DNS name that does not resolve) was only in state(). The call's error now
 * names discovery's current failure and carries it as its cause.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createMesh, isMeshError, type Mesh } from '../../src/index.ts';
import { startConsulEmulator } from '../support/consul-emulator/index.ts';

describe('MESH_NO_ENDPOINTS names discovery failing', () => {
  const meshes: Mesh[] = [];
  after(async () => {
    for (const mesh of meshes) await mesh.close();
  });

  async function failedCall(mesh: Mesh, service: string): Promise<Error> {
    const error = await mesh
      .client(service)
      .request({ path: '/' })
      .then(
        () => assert.fail('the call succeeded'),
        (e: unknown) => e,
      );
    assert.ok(isMeshError(error), `a MeshError: ${String(error)}`);
    assert.equal(error.code, 'MESH_NO_ENDPOINTS');
    return error;
  }

  const discoveryError = (mesh: Mesh, service: string): unknown => (mesh.state().services as Record<string, { discoveryError: unknown }>)[service]?.discoveryError;

  it('regression: Consul discovery with no Consul agent configured says so in the call error, not only in state()', async (t) => {
    if (process.env.CONSUL_HTTP_ADDR) return t.skip('CONSUL_HTTP_ADDR names an agent: this test needs none configured');
    const mesh = await createMesh({ service: 'caller', config: { services: { payments: { discovery: { type: 'consul' } } } } });
    meshes.push(mesh);
    const error = await failedCall(mesh, 'payments');
    assert.match(error.message, /no Consul agent is configured/);
    assert.match(error.message, /consul: \{ url \}|CONSUL_HTTP_ADDR/);
    assert.doesNotMatch(error.message, /instances are registered/, 'not the generic advice');
    assert.ok(error.cause instanceof Error);
    assert.equal(error.cause.message, discoveryError(mesh, 'payments'), 'the cause is the error state() shows');
  });

  it('regression: a DNS name that does not resolve is named in the call error, with the lookup failure as its cause', async () => {
    const mesh = await createMesh({ service: 'caller', config: { services: { lookup: { discovery: { type: 'dns', name: 'meshlet-no-such-host.invalid', port: 8080 } } } } });
    meshes.push(mesh);
    const error = await failedCall(mesh, 'lookup');
    assert.match(error.message, /DNS lookup of meshlet-no-such-host\.invalid failed/);
    assert.ok(error.cause instanceof Error);
    assert.equal(error.cause.message, discoveryError(mesh, 'lookup'));
  });

  it('a service whose discovery works but lists no instance keeps the generic advice, without a cause', async () => {
    const consul = await startConsulEmulator();
    try {
      const mesh = await createMesh({ service: 'caller', consul: { url: consul.url }, config: { services: { unregistered: { discovery: { type: 'consul' } } } } });
      meshes.push(mesh);
      const error = await failedCall(mesh, 'unregistered');
      assert.match(error.message, /check its discovery config .* and that instances are registered/);
      assert.equal(error.cause, undefined);
      await mesh.close();
    } finally {
      await consul.close();
    }
  });
});
