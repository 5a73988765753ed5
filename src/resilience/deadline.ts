/**
 * Deadlines: a call has one total budget of time, all attempts and backoff included. The
 * client computes the call's own deadline (per-call `timeout`, else the service's); this
 * layer clips it to the inbound request's deadline (so a request that must answer in 300 ms
 * never waits 2 s on a dependency), refuses to start work that is already late, and aborts
 * everything below when time runs out. The remaining time then travels to the next hop in
 * `x-meshlet-timeout-ms` (the attempt layer adds it).
 */
import { currentInbound } from '../core/call-context.ts';
import { MeshError } from '../core/errors.ts';
import type { Layer, MeshRequest, MeshResponse, Service } from '../core/service.ts';
import type { CallContext } from '../core/call-context.ts';
import type { LayerDeps } from '../stack/layer-deps.ts';

export function deadlineLayer(deps: LayerDeps): Layer {
  const { clock } = deps;
  return {
    name: 'deadline',
    wrap(inner: Service): Service {
      return {
        call(request: MeshRequest, ctx: CallContext): Promise<MeshResponse> {
          const inbound = currentInbound();
          if (inbound !== undefined && inbound.deadline < ctx.deadline) ctx.deadline = inbound.deadline;
          const remaining = ctx.deadline - clock.now();
          if (remaining <= 0) return Promise.reject(timeoutError(ctx, 0));
          // NOTE: the inbound request's cancellation is linked too: when the client that
          // called us goes away, the work done on its behalf stops.
          const inboundSignal = inbound?.signal;
          if (remaining === Number.POSITIVE_INFINITY && inboundSignal === undefined) return inner.call(request, ctx);
          return callWithDeadline(inner, request, ctx, remaining, inboundSignal, deps);
        },
      };
    },
  };
}

async function callWithDeadline(
  inner: Service,
  request: MeshRequest,
  ctx: CallContext,
  remaining: number,
  inboundSignal: AbortSignal | undefined,
  deps: LayerDeps,
): Promise<MeshResponse> {
  const controller = new AbortController();
  const callerSignal = ctx.signal;
  const onCallerAbort = (): void => controller.abort(abortedError(ctx, callerSignal?.reason));
  const onInboundAbort = (): void => controller.abort(abortedError(ctx, inboundSignal?.reason));
  if (callerSignal?.aborted) throw abortedError(ctx, callerSignal.reason);
  if (inboundSignal?.aborted) throw abortedError(ctx, inboundSignal.reason);
  callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
  inboundSignal?.addEventListener('abort', onInboundAbort, { once: true });
  const timer =
    remaining === Number.POSITIVE_INFINITY
      ? undefined
      : deps.clock.setTimer(() => controller.abort(timeoutError(ctx, ctx.attempt)), remaining);
  ctx.signal = controller.signal;
  try {
    return await inner.call(request, ctx);
  } finally {
    // NOTE: the deadline covers the wait for the response head. Once the caller holds the
    // response, reading its body is the caller's business (and its own signal's).
    timer?.cancel();
    callerSignal?.removeEventListener('abort', onCallerAbort);
    inboundSignal?.removeEventListener('abort', onInboundAbort);
  }
}

export function timeoutError(ctx: CallContext, attempts: number): MeshError {
  const total = Math.round(ctx.deadline - ctx.startedAt);
  return new MeshError(
    'MESH_TIMEOUT',
    `call to '${ctx.service}' exceeded its ${total} ms deadline` +
      ' (raise `timeout` for the service or the call, or find why the dependency is slow)',
    { service: ctx.service, attempts },
  );
}

function abortedError(ctx: CallContext, reason: unknown): MeshError {
  return new MeshError('MESH_ABORTED', `call to '${ctx.service}' was aborted by the caller`, {
    service: ctx.service,
    cause: reason,
  });
}
