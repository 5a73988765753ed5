/**
 * One logical gRPC call through meshlet: what the unary and the streaming entries share. It
 * reads the service as the mesh has it now (a config push reaches the next call), makes the
 * call's deadline (the caller's grpc-js `deadline` when given, else the service's `timeout`;
 * the deadline layer then clips it to the inbound request), counts the call on the service's
 * runtime (so mesh.close() drains it) and runs it down the unary or the stream stack.
 */
import type { Deadline, InterceptorOptions, Metadata, NextCall } from '@grpc/grpc-js';
import { Attempt } from '../../core/attempt.ts';
import { newCall } from '../../core/call-context.ts';
import type { MeshResponse, Reply } from '../../core/service.ts';
import type { BalancerPolicy } from '../../config/policy.ts';
import type { ServiceRuntime } from '../../mesh/service-runtime.ts';
import { leave } from '../../mesh/client-call.ts';
import { invalidArgument } from '../../core/mesh-errors.ts';
import type { Binding } from './binding.ts';
import { buildGrpcStacks, type GrpcStacks, retireGrpcStacks } from './grpc-stack.ts';
import { type CallOwner, GrpcRequest } from './grpc-request.ts';
import { type GrpcCallWatch, watchCall } from './grpc-channels.ts';
import { meterCall } from './grpc-metrics.ts';
import { traceCall } from './grpc-tracing.ts';
import { reportRouted } from './routing-refusal.ts';
import { reportTlsChange } from './credentials.ts';

/** A client's stacks, rebuilt when the service's runtime changes (grpc-stack.ts). */
export class ClientStacks {
  readonly binding: Binding;
  #stacks: GrpcStacks | undefined = undefined;

  constructor(binding: Binding) {
    this.binding = binding;
  }

  /**
   * Starts the call; its result goes to `owner` (once). Throws (MESH_CLOSED,
   * MESH_UNKNOWN_SERVICE) when there is nothing to run it on.
   */
  run(options: InterceptorOptions, nextCall: NextCall, metadata: Metadata, message: unknown, owner: CallOwner & Reply): void {
    const { mesh, service, idempotent } = this.binding;
    const view = mesh.serviceView(service);
    let stacks = this.#stacks;
    if (stacks === undefined || stacks.runtime !== view.runtime) {
      if (stacks !== undefined) retireGrpcStacks(stacks);
      reportRouted(view, service);
      reportTlsChange(view, service, this.binding.tls);
      stacks = buildGrpcStacks(view);
      this.#stacks = stacks;
    }
    const path = options.method_definition.path;
    // NOTE: no method list (the default): no slice of the path per call.
    const isIdempotent = metadata.getOptions().idempotentRequest === true || (idempotent.size > 0 && (idempotent.has(path) || idempotent.has(path.slice(path.lastIndexOf('/') + 1))));
    const traced = traceCall(service, path, metadata);
    const ending = meterCall(service, path, traced?.span);
    if (ending !== undefined) owner.span = ending;
    const runtime = view.runtime;
    const request = new GrpcRequest(options, nextCall, traced?.metadata ?? metadata, message, isIdempotent, owner, hashKeyOf(runtime.policy.balancer, metadata));
    const now = view.clock.now();
    // The caller's own deadline is a per-call option: it replaces the service's timeout (DESIGN §3's precedence), as `timeout` does on HTTP calls.
    const timeout = options.deadline !== undefined ? remainingOf(options.deadline, path) : runtime.policy.timeout === false ? Number.POSITIVE_INFINITY : runtime.policy.timeout;
    // A call that may be hedged follows the caller's cancel through a signal, as every racing attempt must, and so does one a
    // layer may hold (an injected delay, a concurrency queue: else a cancelled call keeps its timer or its place in the queue).
    const streaming = owner.stream !== undefined;
    const signal = (streaming ? stacks.streamCancel : stacks.unaryCancel) && owner.cancelSignal !== undefined ? owner.cancelSignal() : undefined;
    const first = Attempt.first(newCall(service, now, now + timeout, signal));
    const watch = watchCall(stacks.mesh, service, view.clock, now);
    request.watch = watch;
    runtime.enter();
    const reply = new CallEnd(runtime, owner, watch);
    const stack = streaming ? stacks.stream : stacks.unary;
    if (stack.send !== undefined) stack.send(request, first, reply);
    else
      stack.call(request, first).then(
        (response) => reply.resolve(response),
        (error: unknown) => reply.reject(error),
      );
  }

  close(): void {
    if (this.#stacks !== undefined) retireGrpcStacks(this.#stacks);
    this.#stacks = undefined;
  }
}

/**
 * The ring-hash key of a call: the metadata entry `hashOn: 'header:<name>'` names (gRPC
 * metadata is the call's headers). Undefined for other balancers, so they pay nothing.
 */
function hashKeyOf(balancer: BalancerPolicy, metadata: Metadata): string | undefined {
  if (balancer.policy !== 'ring-hash' || balancer.hashOn === undefined || !balancer.hashOn.startsWith('header:')) return undefined;
  const value = metadata.get(balancer.hashOn.slice('header:'.length).toLowerCase())[0];
  return value === undefined ? undefined : String(value);
}

/**
 * Where a call's result goes: the runtime counts it out (mesh.close() drains it), then the
 * caller's side hears it. As the HTTP client's reply does (mesh/client-call.ts): the call leaves
 * once, whatever a buggy layer replies twice, and a throw from the runtime's count never keeps
 * the caller from hearing the result.
 */
class CallEnd implements Reply {
  readonly #runtime: ServiceRuntime;
  readonly #owner: Reply;
  readonly #watch: GrpcCallWatch | undefined;
  #settled = false;

  constructor(runtime: ServiceRuntime, owner: Reply, watch: GrpcCallWatch | undefined) {
    this.#runtime = runtime;
    this.#owner = owner;
    this.#watch = watch;
  }

  // NOTE: methods, not arrow properties: no two closures per call (every layer calls a Reply as `reply.resolve(…)`).
  resolve(response: MeshResponse): void {
    if (this.#end(response, undefined)) this.#owner.resolve(response);
  }

  reject(error: unknown): void {
    if (this.#end(undefined, error)) this.#owner.reject(error);
  }

  #end(response: MeshResponse | undefined, error: unknown): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    leave(this.#runtime);
    // NOTE: diagnostics_channel reports a throwing subscriber on the next tick, never here.
    this.#watch?.end(response, error);
    return true;
  }
}

/**
 * Milliseconds left until a grpc-js deadline (a Date or epoch ms; Infinity: none). One that is
 * no time at all (an invalid Date, NaN, not a number) is refused: meshlet enforces the limit
 * itself, and a NaN limit would be none (grpc-js, given it, ended the call at once).
 */
function remainingOf(deadline: Deadline, path: string): number {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (typeof at !== 'number' || Number.isNaN(at)) {
    throw invalidArgument(`the gRPC call ${path}`, `its deadline option must be a valid Date or epoch milliseconds (Infinity for none), got ${String(deadline)}`);
  }
  return at === Number.POSITIVE_INFINITY ? at : at - Date.now();
}
