/**
 * The set-up the Consul integration suites share: one Consul for the suite (the emulator, or
 * a real agent through consulForTests), and the meshes and loopback backends its tests start,
 * all closed after the suite: meshes first (they may still be calling), then backends, then
 * Consul.
 */
import { after, before } from 'node:test';
import type { Mesh } from '../../src/index.ts';
import { type Backend, startBackend } from './http-backend.ts';

export interface ConsulSuite<C> {
  /** The suite's Consul: started in the suite's first before(), so read it inside hooks and tests. */
  readonly consul: C;
  /** `mesh`, closed after the suite. */
  mesh(mesh: Mesh): Mesh;
  /** A backend from `start` (a plain startBackend() unless given), closed after the suite's meshes. */
  backend<B extends Backend = Backend>(start?: () => Promise<B>): Promise<B>;
}

/** Registers the suite's before() and after(): call it first in the describe(), before hooks that use Consul. */
export function consulSuite<C extends { close(): Promise<void> }>(startConsul: () => Promise<C>): ConsulSuite<C> {
  let consul: C | undefined;
  const meshes: Mesh[] = [];
  const backends: Backend[] = [];
  before(async () => {
    consul = await startConsul();
  });
  after(async () => {
    for (const mesh of meshes) await mesh.close();
    for (const backend of backends) await backend.close();
    await consul?.close();
  });
  return {
    get consul(): C {
      if (consul === undefined) throw new Error("the suite's Consul starts in its before(): read it inside a hook or a test");
      return consul;
    },
    mesh: (mesh) => {
      meshes.push(mesh);
      return mesh;
    },
    backend: async <B extends Backend>(start?: () => Promise<B>): Promise<B> => {
      const backend = await (start ?? (startBackend as () => Promise<B>))();
      backends.push(backend);
      return backend;
    },
  };
}
