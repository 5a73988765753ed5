/**
 * One attempt on one endpoint: the per-try timeout, and the headers every attempt carries to
 * the next hop — the time left (`x-meshlet-timeout-ms`, relative so clock skew between hosts
 * does not matter) and the attempt number (`x-meshlet-attempt`). The caller's headers are
 * copied, never mutated.
 */
import { TransportError } from '../core/errors.ts';
import type { CallContext } from '../core/call-context.ts';
import type { Layer, MeshRequest, MeshResponse, Service } from '../core/service.ts';
import type { LayerDeps } from '../stack/layer-deps.ts';
import { timeoutError } from './deadline.ts';

export const TIMEOUT_HEADER = 'x-meshlet-timeout-ms';
export const ATTEMPT_HEADER = 'x-meshlet-attempt';

export function attemptLayer(deps: LayerDeps): Layer {
  const { clock } = deps;
  const perTryTimeout = deps.policy.perTryTimeout;
  return {
    name: 'attempt',
    wrap(inner: Service): Service {
      return {
        call(request: MeshRequest, ctx: CallContext): Promise<MeshResponse> {
          const now = clock.now();
          const remaining = ctx.deadline - now;
          // NOTE: no attempt starts after the deadline, whatever the layers above decided.
          if (remaining <= 0) return Promise.reject(timeoutError(ctx, ctx.attempt - 1));
          const outgoing = withMeshHeaders(request, ctx, remaining, perTryTimeout);
          if (perTryTimeout === false || perTryTimeout >= remaining) return inner.call(outgoing, ctx);
          return callWithPerTryTimeout(inner, outgoing, ctx, perTryTimeout, deps);
        },
      };
    },
  };
}

function withMeshHeaders(
  request: MeshRequest,
  ctx: CallContext,
  remaining: number,
  perTryTimeout: number | false,
): MeshRequest {
  const headers: Record<string, string | string[]> = { ...request.headers };
  if (remaining !== Number.POSITIVE_INFINITY) {
    const budget = perTryTimeout === false ? remaining : Math.min(remaining, perTryTimeout);
    headers[TIMEOUT_HEADER] = String(Math.max(1, Math.floor(budget)));
  }
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

async function callWithPerTryTimeout(
  inner: Service,
  request: MeshRequest,
  ctx: CallContext,
  perTryTimeout: number,
  deps: LayerDeps,
): Promise<MeshResponse> {
  const controller = new AbortController();
  const parent = ctx.signal;
  const onParentAbort = (): void => controller.abort(parent?.reason);
  if (parent?.aborted) throw parent.reason;
  parent?.addEventListener('abort', onParentAbort, { once: true });
  const endpointId = ctx.endpoint?.address.id;
  const timer = deps.clock.setTimer(() => {
    const message = `attempt ${ctx.attempt} to '${ctx.service}' exceeded its ${perTryTimeout} ms per-try timeout`;
    controller.abort(new TransportError('timeout', true, message, undefined, endpointId));
  }, perTryTimeout);
  const attemptCtx = ctx;
  attemptCtx.signal = controller.signal;
  try {
    return await inner.call(request, attemptCtx);
  } finally {
    timer.cancel();
    parent?.removeEventListener('abort', onParentAbort);
    attemptCtx.signal = parent;
  }
}
