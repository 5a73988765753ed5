/**
 * The meshes the telemetry gauges read at collection time. A mesh registers itself when it
 * is made; it is held weakly, so a mesh the application dropped is not kept alive by a meter,
 * and a closed one is skipped. Reading `state()` once per collection (every few seconds) is
 * what keeps the gauges free on the hot path.
 */
/** The parts of mesh.state() the gauges read. */
export interface MeshStateView {
  readonly service?: string;
  readonly config?: { readonly version?: number; readonly control?: { readonly status?: string } };
  readonly services?: Record<string, { readonly breaker?: { readonly state?: string }; readonly endpoints?: ReadonlyArray<{ readonly healthy?: boolean }> }>;
}

export interface StateSource {
  state(): unknown;
}

const meshes = new Set<WeakRef<StateSource>>();

export function registerMeshGauges(mesh: StateSource): void {
  meshes.add(new WeakRef(mesh));
}

export function* eachLiveMeshState(): Generator<MeshStateView> {
  for (const ref of meshes) {
    const mesh = ref.deref();
    if (mesh === undefined) {
      meshes.delete(ref);
      continue;
    }
    const state = mesh.state() as MeshStateView & { closed?: boolean };
    if (state.closed === true) {
      meshes.delete(ref);
      continue;
    }
    yield state;
  }
}
