/**
 * Which mesh a diagnostics message is about. The channels are process-wide, so two meshes in
 * one process (a gateway with two configs, tests) publish on the same channels, often for
 * services of the same name; every call, attempt, config and endpoint message carries its
 * mesh's id so a subscriber (the admin page's statistics, an APM) can tell them apart.
 *
 * The id is a small number, unique per mesh in the process (1 for the first mesh made, …),
 * given when the mesh is made (telemetry-stack.ts `installTelemetry`) to the mesh and to its
 * event emitter, which is what its stacks' layer environment holds. A stack made outside a
 * mesh (a unit test's) reports 0. Looked up when a stack is built, never per call.
 */
let last = 0;
const ids = new WeakMap<object, number>();

/** Gives `mesh` and its `events` a new id. */
export function assignMeshId(mesh: object, events: object): number {
  const id = ++last;
  ids.set(mesh, id);
  ids.set(events, id);
  return id;
}

/** The id of a mesh, or of the mesh that owns an event emitter; 0 for one no mesh owns. */
export function meshIdOf(key: object): number {
  return ids.get(key) ?? 0;
}
