/**
 * One attempt on one endpoint: its time limit, and the headers every attempt carries to the
 * next hop — the time left (`x-meshlet-timeout-ms`, relative so clock skew between hosts
 * does not matter) and the attempt number (`x-meshlet-attempt`). The caller's headers are
 * copied, never mutated.
 *
 * The time limit is the sooner of the call's deadline and the per-try timeout. It is enforced
 * here, once per attempt, through one `AttemptSignal` handed to the transport: layers that
 * wait above (backoff, queues, injected delays) check the deadline themselves, so no per-call
 * timer or AbortController is needed above this point.
 */
import { AttemptSignal } from '../core/attempt-signal.ts';
import { TransportError } from '../core/errors.ts';
import type { CallContext } from '../core/call-context.ts';
import type { Layer, MeshRequest, MeshResponse, Service } from '../core/service.ts';
import type { LayerDeps } from '../stack/layer-deps.ts';
import { timeoutError } from './deadline.ts';

export const TIMEOUT_HEADER = 'x-meshlet-timeout-ms';
export const ATTEMPT_HEADER = 'x-meshlet-attempt';

export function attemptLayer(deps: LayerDeps): Layer {
  const { clock } = deps;
  const perTryTimeout = deps.policy.perTryTimeout === false ? Number.POSITIVE_INFINITY : deps.policy.perTryTimeout;
  return {
    name: 'attempt',
    wrap(inner: Service): Service {
      return {
        call(request: MeshRequest, ctx: CallContext): Promise<MeshResponse> {
          const remaining = ctx.deadline - clock.now();
          // NOTE: no attempt starts after the deadline, whatever the layers above decided.
          if (remaining <= 0) return Promise.reject(timeoutError(ctx, ctx.attempt - 1));
          const parent = ctx.signal;
          if (parent?.aborted) return Promise.reject(parent.reason);
          const perTry = perTryTimeout < remaining;
          const limit = perTry ? perTryTimeout : remaining;
          const outgoing = withMeshHeaders(request, ctx, limit);
          if (limit === Number.POSITIVE_INFINITY && parent === undefined) return inner.call(outgoing, ctx);
          const wire = new AttemptSignal();
          if (parent !== undefined) wire.follow(parent);
          if (limit !== Number.POSITIVE_INFINITY) {
            wire.setTimer(clock.setTimer(() => wire.abort(perTry ? perTryTimedOut(ctx, limit) : timeoutError(ctx, ctx.attempt)), limit));
          }
          ctx.wire = wire;
          return callOnWire(inner, outgoing, ctx, wire);
        },
      };
    },
  };
}

async function callOnWire(inner: Service, request: MeshRequest, ctx: CallContext, wire: AttemptSignal): Promise<MeshResponse> {
  try {
    return await inner.call(request, ctx);
  } finally {
    // NOTE: the limit covers the wait for the response head. Once the caller holds the
    // response, reading its body is the caller's business.
    wire.dispose();
  }
}

function withMeshHeaders(request: MeshRequest, ctx: CallContext, limit: number): MeshRequest {
  const headers: Record<string, string | string[]> = { ...request.headers };
  if (limit !== Number.POSITIVE_INFINITY) headers[TIMEOUT_HEADER] = String(Math.max(1, Math.floor(limit)));
  headers[ATTEMPT_HEADER] = String(ctx.attempt);
  return {
    method: request.method,
    path: request.path,
    headers,
    body: request.body,
    idempotent: request.idempotent,
    replayable: request.replayable,
    hashKey: request.hashKey,
  };
}

function perTryTimedOut(ctx: CallContext, limit: number): TransportError {
  const message = `attempt ${ctx.attempt} to '${ctx.service}' exceeded its ${limit} ms per-try timeout`;
  return new TransportError('timeout', true, message, undefined, ctx.endpoint?.address.id);
}
