/**
 * The set-up of a test that checks one policy end to end through createMesh: one loopback
 * backend and a mesh whose `payments` service calls it with that policy. The caller's
 * describe keeps the two and closes them (mesh first) in its own after().
 */
import { createMesh, type Mesh, type MeshConfig } from '../../src/index.ts';
import { type Backend, type BackendHandler, startBackend } from './http-backend.ts';

export type PaymentsPolicy = Omit<NonNullable<MeshConfig['services']>[string], 'endpoints'>;

export async function startOneBackendMesh(policy: PaymentsPolicy, handler?: BackendHandler, service = 'checkout'): Promise<{ backend: Backend; mesh: Mesh }> {
  const backend = await startBackend(handler);
  const mesh = await createMesh({ service, config: { services: { payments: { endpoints: [backend.address], ...policy } } } });
  return { backend, mesh };
}
