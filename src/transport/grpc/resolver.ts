/**
 * The `meshlet:` scheme for grpc-js: `meshlet:///inventory` resolves to the endpoints meshlet's
 * discovery (static, DNS, Consul) has for the service now, and again whenever they change or a
 * config push replaces them. grpc-js gives the list to the balancer type (balancer.ts), which
 * keeps one subchannel per endpoint; which endpoint a call takes is meshlet's decision.
 */
import grpc from '@grpc/grpc-js';
import type { experimental } from '@grpc/grpc-js';
import { type Binding, bindingOf } from './binding.ts';

type Endpoint = experimental.Endpoint;
type ResolverListener = experimental.ResolverListener;
type GrpcUri = experimental.GrpcUri;

export const MESHLET_SCHEME = 'meshlet';

/** The endpoints as grpc-js wants them; ejected ones included (meshlet's picker skips them, their connections stay warm). */
export function endpointsOf(binding: Binding): Endpoint[] {
  let members: readonly { readonly address: { readonly host: string; readonly port: number } }[];
  try {
    members = binding.mesh.serviceView(binding.service).endpoints.current.members;
  } catch {
    return []; // closed mesh or a service that left the config: calls fail with meshlet's error
  }
  return members.map((endpoint) => ({ addresses: [{ host: endpoint.address.host, port: endpoint.address.port }] }));
}

export class MeshletResolver implements experimental.Resolver {
  readonly #listener: ResolverListener;
  readonly #binding: Binding | undefined;
  readonly #target: string;
  #unsubscribe: (() => void) | undefined = undefined;
  #scheduled = false;
  #destroyed = false;

  constructor(target: GrpcUri, listener: ResolverListener, options: Record<string, unknown>) {
    this.#listener = listener;
    this.#target = target.path;
    this.#binding = bindingOf(options);
  }

  static getDefaultAuthority(target: GrpcUri): string {
    return target.path.replace(/^\/+/, '');
  }

  updateResolution(): void {
    this.#destroyed = false;
    const binding = this.#binding;
    if (binding !== undefined && this.#unsubscribe === undefined) {
      const push = (): void => this.#schedule();
      const offEndpoints = binding.mesh.on('endpoints', (event) => {
        if (event.service === binding.service) push();
      });
      // A push may replace the endpoint set after its discovery first reported (the swap): read again then.
      const offConfig = binding.mesh.on('config', push);
      this.#unsubscribe = () => {
        offEndpoints();
        offConfig();
      };
    }
    this.#schedule();
  }

  /**
   * NOTE: never synchronously from updateResolution (grpc-js's rule); many changes in one turn
   * make one update. The immediate is not unref'd: an unref'd immediate does not stop the event
   * loop from blocking in its poll phase, and the update then waited for unrelated I/O (~0.7 s).
   */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#destroyed) return;
      const binding = this.#binding;
      if (binding === undefined) {
        this.#listener(grpc.experimental.statusOrFromError({ code: grpc.status.UNAVAILABLE, details: `meshlet: no mesh client owns target ${this.#target}; make clients with mesh.grpc()` }), {}, null, '');
        return;
      }
      this.#listener(grpc.experimental.statusOrFromValue(endpointsOf(binding)), {}, null, `meshlet service '${binding.service}'`);
    });
  }

  destroy(): void {
    this.#destroyed = true;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }
}
