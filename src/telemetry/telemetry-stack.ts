/**
 * How telemetry joins a client stack (stack/client-stack.ts calls `observableStack`), and the
 * hooks the mesh calls once when it is made (`installTelemetry`).
 *
 * Two thin layers: the logical-call layer on top (call-telemetry.ts) and the attempt layer
 * between the balancer and the transport (attempt-telemetry.ts). NOTE: they are in every
 * stack built with a layer environment, and what they cost unobserved is the point of their
 * design: the top one asks `observing()` (a few field reads) and hands the call on in its own
 * form (the callback form stays fused, no promise, no allocation); the bottom one reads one
 * property of the call's shared empty attributes. They cannot be left out of the chain while
 * nobody looks, because a diagnostics-channel subscriber (the admin page, an APM) may arrive
 * at any time after createMesh and must see the next call; an OpenTelemetry SDK registered
 * after createMesh is noticed when a stack is next built (a config push) or at once through
 * `refreshTelemetry()`.
 */
import type { MeshEventEmitter } from '../core/events.ts';
import type { LayerEnv } from '../core/layer-env.ts';
import type { Layer, Service } from '../core/service.ts';
import { AttemptTelemetryService } from './attempt-telemetry.ts';
import { CallTelemetryService } from './call-telemetry.ts';
import { bridgeMeshEvents, bridgeOtelEvents } from './event-bridge.ts';
import { registerMeshGauges, type StateSource, unregisterMeshGauges } from './gauge-meshes.ts';
import { reportLater } from './forward.ts';
import { LiveSet } from './live-set.ts';
import { assignMeshId } from './mesh-id.ts';
import { otel, readOtelRegistry } from './otel-state.ts';

/** The live meshes' event emitters, for refreshTelemetry(); exported for the test of its bound. */
export const liveEmitters = new LiveSet<MeshEventEmitter>();
/** What else goes when a mesh closes (its admin page's statistics: admin-handler.ts). */
const closeHooks = new WeakMap<object, Set<() => void>>();

/** `layers` (outermost first) around `transport`, with the telemetry layers on top and above the transport. */
export function observableStack(layers: readonly Layer[], env: LayerEnv, transport: Service): CallTelemetryService {
  readOtelRegistry();
  if (otel.tracing || otel.metering) bridgeOtelEvents(env.events);
  let service: Service = new AttemptTelemetryService(transport);
  for (let i = layers.length - 1; i >= 0; i--) service = layers[i]!.wrap(service);
  return new CallTelemetryService(service, env, layers.find((layer) => layer.name === 'breaker'));
}

/** The mesh is made: its events feed the channels from its first config, its state the gauges. */
export function installTelemetry(mesh: StateSource, events: MeshEventEmitter): void {
  assignMeshId(mesh, events);
  bridgeMeshEvents(events);
  registerMeshGauges(mesh);
  liveEmitters.add(events);
}

/**
 * The mesh has closed (mesh.ts calls it from close()): it leaves the gauges and the refresh
 * list, and what was hooked to it with `onMeshClosed` runs (once).
 */
export function closeTelemetry(mesh: StateSource, events: MeshEventEmitter): void {
  unregisterMeshGauges(mesh);
  liveEmitters.delete(events);
  const hooks = closeHooks.get(mesh);
  closeHooks.delete(mesh);
  for (const hook of hooks ?? []) {
    try {
      hook();
    } catch (bug) {
      // NOTE: one hook's bug must not fail close() or keep the others from running.
      reportLater(bug);
    }
  }
}

/** Runs `hook` when `mesh` closes; the returned function takes it back. */
export function onMeshClosed(mesh: object, hook: () => void): () => void {
  let hooks = closeHooks.get(mesh);
  if (hooks === undefined) {
    hooks = new Set();
    closeHooks.set(mesh, hooks);
  }
  hooks.add(hook);
  return () => {
    closeHooks.get(mesh)?.delete(hook);
  };
}

/**
 * Reads the OpenTelemetry registry again. Call it once after installing an OpenTelemetry SDK
 * when meshes already run (meshes made after the SDK see it by themselves).
 */
export function refreshTelemetry(): void {
  readOtelRegistry();
  if (!otel.tracing && !otel.metering) return;
  for (const events of liveEmitters) bridgeOtelEvents(events);
}

/** A target stack as one route's calls take it: its telemetry names the route and the target's subset (route-target-stacks.ts). */
export function stackForRoute(stack: Service, route: string | undefined, subset: string | undefined): Service {
  return stack instanceof CallTelemetryService ? stack.forRoute(route, subset) : stack;
}
