/**
 * Routes and subsets are not applied to gRPC calls yet: a gRPC channel holds one subchannel per
 * endpoint of its service, and meshlet's routing picks a target stack (a subset, another
 * service, a route's own timeout and retries) that the channel's resolver and balancer do not
 * know. Rather than ignore a service's routing silently, meshlet says so where it can:
 *
 * - `mesh.grpc()` for a service routed now (its `routes`, or Consul's config entries for it)
 *   throws MESH_BAD_REQUEST, naming where the routing comes from;
 * - a client made before its service became routed (a push, a Consul entry written later) keeps
 *   working over every endpoint of the service, as it did, and the first call on each routed
 *   runtime reports it: a `control-error` event (source `grpc:<service>`) and a process
 *   warning, so a routing change never turns into a gRPC outage and never goes unseen.
 */
import { MeshError } from '../../core/errors.ts';
import { invalidArgument } from '../../core/mesh-errors.ts';
import type { Mesh, ServiceView } from '../../mesh/mesh.ts';
import type { ServiceRuntime } from '../../mesh/service-runtime.ts';

const reported = new WeakSet<ServiceRuntime>();

function routingOf(runtime: ServiceRuntime): string {
  return runtime.routingSource === 'consul' ? "Consul's config entries for it (service-router / service-splitter / service-resolver)" : 'its `routes`';
}

/** Throws when `service` is routed now; a service the mesh does not know is left to its calls' own error. */
export function refuseRouted(mesh: Mesh, service: string): void {
  let runtime: ServiceRuntime;
  try {
    runtime = mesh.serviceView(service).runtime;
  } catch {
    return;
  }
  if (runtime.routes === undefined) return;
  throw invalidArgument(
    'mesh.grpc(name, Client)',
    `'${service}' is routed by ${routingOf(runtime)}, and gRPC calls do not apply routes or subsets yet: they would go to every endpoint of '${service}'. Call a service without routing (a route target's own service, by its name) from gRPC`,
  );
}

/** Reports, once per runtime, that a client made before its service was routed ignores that routing. */
export function reportRouted(view: ServiceView, service: string): void {
  const runtime = view.runtime;
  if (runtime.routes === undefined || reported.has(runtime)) return;
  reported.add(runtime);
  const error = new MeshError('MESH_BAD_REQUEST', `gRPC calls to '${service}' do not apply ${routingOf(runtime)} (routing is not supported for gRPC yet): they go on over every endpoint of '${service}', as before the service was routed`);
  view.events.emitLazy('control-error', () => ({ source: `grpc:${service}`, error }));
  process.emitWarning(error.message, { code: 'MESHLET_GRPC_ROUTES_NOT_APPLIED' });
}
