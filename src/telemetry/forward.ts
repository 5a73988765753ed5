/**
 * Hands an observed call or attempt to the service below in whichever form it offers: the
 * callback form when it has one (no promise), else its promise, settled into the reply. A
 * synchronous throw (a bug below) becomes a rejection, as everywhere in the stack.
 */
import type { Attempt } from '../core/attempt.ts';
import type { MeshRequest, MeshResponse, Reply, Service } from '../core/service.ts';

export function forward(inner: Service, request: MeshRequest, attempt: Attempt, reply: Reply): void {
  try {
    if (inner.send !== undefined) inner.send(request, attempt, reply);
    else
      inner.call(request, attempt).then(
        (response) => reply.resolve(response),
        (error: unknown) => reply.reject(error),
      );
  } catch (bug) {
    reply.reject(bug);
  }
}

/** The promise form of a callback-form call. */
export function promised(start: (reply: Reply) => void): Promise<MeshResponse> {
  return new Promise((resolve, reject) => start({ resolve, reject }));
}

/** A bug in telemetry (or a tracer, exporter or subscriber it calls) surfaces on its own, never in the call's result. */
export function reportLater(bug: unknown): void {
  queueMicrotask(() => {
    throw bug;
  });
}
