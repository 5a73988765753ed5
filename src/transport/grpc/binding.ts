/**
 * How a grpc-js channel finds the mesh service it serves. grpc-js builds resolvers and
 * balancers itself from a target string and channel options, so a client's channel carries
 * one option, a binding id, and the resolver and the interceptor look the binding up here:
 * the mesh and the logical service name. Everything else (runtime, endpoints, policy) is read
 * from the mesh at the moment it is needed, so config pushes reach live clients.
 */
import type { Mesh } from '../../mesh/mesh.ts';

/** The channel option that names a client's binding. */
export const BINDING_OPTION = 'meshlet.binding';

export interface Binding {
  readonly id: number;
  readonly mesh: Mesh;
  readonly service: string;
  /** Method names (the last path segment, e.g. 'GetItem') or full paths that may be sent twice. */
  readonly idempotent: ReadonlySet<string>;
  /** The `tls` policy the channel's credentials were made from (credentials.ts); undefined: the caller passed its own. */
  readonly tls: string | undefined;
}

const bindings = new Map<number, Binding>();
let nextId = 1;

export function bind(mesh: Mesh, service: string, idempotent: ReadonlySet<string>, tls: string | undefined = undefined): Binding {
  const binding = { id: nextId++, mesh, service, idempotent, tls };
  bindings.set(binding.id, binding);
  return binding;
}

export function unbind(binding: Binding): void {
  bindings.delete(binding.id);
}

export function bindingOf(options: Record<string, unknown>): Binding | undefined {
  const id = options[BINDING_OPTION];
  return typeof id === 'number' ? bindings.get(id) : undefined;
}
