/**
 * The meshes the telemetry gauges read at collection time. A mesh registers itself when it
 * is made and leaves when it closes; it is held weakly (live-set.ts), so a mesh the
 * application dropped is not kept alive by a meter, and a closed one is skipped. Reading `state()` once per collection (every few seconds) is
 * what keeps the gauges free on the hot path.
 */
import { LiveSet } from './live-set.ts';

/** The parts of mesh.state() the gauges read. */
export interface MeshStateView {
  readonly service?: string;
  readonly config?: { readonly version?: number; readonly control?: { readonly status?: string } };
  readonly services?: Record<string, { readonly breaker?: { readonly state?: string }; readonly endpoints?: ReadonlyArray<{ readonly healthy?: boolean }> }>;
}

export interface StateSource {
  state(): unknown;
}

/** Exported for the regression test of its bound (test/telemetry/live-set.test.ts). */
export const gaugeMeshes = new LiveSet<StateSource>();

export function registerMeshGauges(mesh: StateSource): void {
  gaugeMeshes.add(mesh);
}

export function unregisterMeshGauges(mesh: StateSource): void {
  gaugeMeshes.delete(mesh);
}

export function* eachLiveMeshState(): Generator<MeshStateView> {
  for (const mesh of gaugeMeshes) {
    const state = mesh.state() as MeshStateView & { closed?: boolean };
    if (state.closed === true) {
      gaugeMeshes.delete(mesh);
      continue;
    }
    yield state;
  }
}
