/**
 * meshlet/grpc: gRPC calls through the mesh for @grpc/grpc-js clients.
 *
 *   import 'meshlet/grpc';
 *   const inventory = mesh.grpc('inventory', InventoryClient, { idempotent: ['GetItem'] });
 *
 * Importing this module registers grpc-js's extension points once — the `meshlet:` resolver
 * (resolver.ts) and the `meshlet` balancer type (balancer.ts) — and `mesh.grpc()`. A client is
 * an ordinary grpc-js client whose channel targets `meshlet:///<service>`, with meshlet's
 * interceptor (unary-call.ts, streaming-call.ts) running each call through the service's
 * stack (grpc-stack.ts), its credentials from the service's `tls` config (credentials.ts).
 * A service routed now is refused (routing-refusal.ts: gRPC calls do not apply routes yet).
 * 'meshlet' itself never imports this file, so it never loads grpc-js.
 *
 * Retries are meshlet's own retry layer, not grpc-js's retryPolicy (disabled on the channel):
 * the budget must be the one the service's HTTP calls draw on, and grpc-js's retryThrottling
 * is a token bucket of its own per channel that meshlet could neither share nor show.
 */
import grpc from '@grpc/grpc-js';
import type { ChannelCredentials, ChannelOptions, Client, Interceptor } from '@grpc/grpc-js';
import { invalidArgument } from '../../core/mesh-errors.ts';
import { Mesh } from '../../mesh/mesh.ts';
import { BINDING_OPTION, bind, unbind } from './binding.ts';
import { MESHLET_BALANCER, MeshletBalancer, MeshletBalancerConfig } from './balancer.ts';
import { channelSecurity } from './credentials.ts';
import { ClientStacks } from './logical-call.ts';
import { MESHLET_SCHEME, MeshletResolver } from './resolver.ts';
import { refuseRouted } from './routing-refusal.ts';
import { StreamingCall } from './streaming-call.ts';
import { UnaryCall } from './unary-call.ts';

export { classifyGrpc } from './status.ts';

export interface GrpcClientOptions {
  /** Channel credentials; default from the service's `tls` config (credentials.ts), else insecure (plaintext HTTP/2). */
  credentials?: ChannelCredentials;
  /**
   * Methods safe to send twice, by name (`'GetItem'`) or full path (`'/shop.Inventory/GetItem'`):
   * only these are retried after DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED or an UNAVAILABLE the
   * server may have processed. A call can also mark itself with grpc-js's metadata option
   * `idempotentRequest`.
   */
  idempotent?: readonly string[];
  /** More grpc-js channel options (keepalive, message sizes…). */
  channelOptions?: ChannelOptions;
  /** Your own interceptors; they run before meshlet's (outermost first). */
  interceptors?: Interceptor[];
}

export type GrpcClientConstructor<C extends Client> = new (address: string, credentials: ChannelCredentials, options?: Record<string, unknown>) => C;

declare module '../../mesh/mesh.ts' {
  interface Mesh {
    /** A grpc-js client for the logical service `name`, through the mesh (meshlet/grpc). */
    grpc<C extends Client>(name: string, Client: GrpcClientConstructor<C>, options?: GrpcClientOptions): C;
  }
}

const SERVICE_CONFIG = JSON.stringify({ loadBalancingConfig: [{ [MESHLET_BALANCER]: {} }] });

/** The same as `mesh.grpc(name, Client, options)`. */
export function grpcClient<C extends Client>(mesh: Mesh, name: string, Client: GrpcClientConstructor<C>, options: GrpcClientOptions = {}): C {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name)) {
    throw invalidArgument('mesh.grpc(name, Client)', `name must be a service name from the config, got ${String(name)}`);
  }
  if (typeof Client !== 'function' || !(Client.prototype instanceof grpc.Client)) {
    throw invalidArgument('mesh.grpc(name, Client)', 'Client must be a grpc-js client constructor (generated code, or loadPackageDefinition(...).pkg.Service)');
  }
  refuseRouted(mesh, name);
  const security = options.credentials === undefined ? channelSecurity(mesh, name) : undefined;
  const binding = bind(mesh, name, new Set(options.idempotent ?? []), security?.tls);
  const stacks = new ClientStacks(binding);
  const meshInterceptor: Interceptor = (callOptions, nextCall) => {
    const method = callOptions.method_definition;
    const call = method.requestStream || method.responseStream ? new StreamingCall(stacks, callOptions, nextCall) : new UnaryCall(stacks, callOptions, nextCall);
    // NOTE: grpc-js drives an interceptor's result through InterceptingCallInterface only.
    return call as unknown as grpc.InterceptingCall;
  };
  const client = new Client(`${MESHLET_SCHEME}:///${name}`, options.credentials ?? security!.credentials, {
    ...security?.options,
    ...options.channelOptions,
    [BINDING_OPTION]: binding.id,
    'grpc.service_config': SERVICE_CONFIG,
    // meshlet's retry layer makes the retries, under the service's budget.
    'grpc.enable_retries': 0,
    interceptors: [...(options.interceptors ?? []), meshInterceptor],
  });
  const closeChannel = client.close.bind(client);
  client.close = () => {
    stacks.close();
    unbind(binding);
    closeChannel();
  };
  return client;
}

grpc.experimental.registerResolver(MESHLET_SCHEME, MeshletResolver);
grpc.experimental.registerLoadBalancerType(MESHLET_BALANCER, MeshletBalancer, MeshletBalancerConfig);
Object.defineProperty(Mesh.prototype, 'grpc', {
  configurable: true,
  writable: true,
  value: function grpcOfMesh(this: Mesh, name: string, Client: GrpcClientConstructor<Client>, options?: GrpcClientOptions): Client {
    return grpcClient(this, name, Client, options);
  },
});
