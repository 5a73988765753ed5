/**
 * Concurrency limit: bounds the calls this process has in flight to one service, so a slow
 * dependency cannot soak up every socket and every pending promise (Hystrix's semaphore
 * isolation, Envoy's max_requests). Fixed: `max` in flight plus an optional small FIFO
 * `queue` where a call may wait up to `queueTimeout` (and never past its deadline or its
 * caller's abort). Adaptive: the limit comes from measured latency (adaptive-limit.ts) and
 * there is no queue: waiting is the latency the limit is trying to avoid.
 * A refused call fails with MESH_CONCURRENCY_LIMIT and is never sent.
 */
import type { Attempt } from '../core/attempt.ts';
import type { MeshError } from '../core/errors.ts';
import { clientClosedWhileQueued, concurrencyLimited } from '../core/mesh-errors.ts';
import type { Layer, MeshRequest, MeshResponse, Service } from '../core/service.ts';
import type { LayerEnv } from '../core/layer-env.ts';
import type { ConcurrencyPolicy } from '../config/policy.ts';
import { AdaptiveLimiter, FixedLimiter, type Limiter } from './limiter.ts';
import { SlotQueue } from './slot-queue.ts';

export function concurrencyLayer(policy: ConcurrencyPolicy | false, env: LayerEnv): Layer {
  const { service, clock } = env;
  let limiter: Limiter | undefined;
  let shed = 0;

  const refuse = (limit: number, why: string): MeshError => {
    shed++;
    env.events.emitLazy('shed', () => ({ service, reason: 'concurrency-limit' }));
    return concurrencyLimited(service, limit, why);
  };

  return {
    name: 'concurrency',
    wrap(inner: Service): Service {
      if (policy === false) return inner;
      limiter = policy.adaptive
        ? new AdaptiveLimiter({ initial: policy.initial, min: policy.min, max: policy.max }, clock)
        : new FixedLimiter(policy.max, policy.queue > 0 ? new SlotQueue(clock, policy.queue, policy.queueTimeout, service) : undefined);
      const queueTimeout = policy.adaptive ? 0 : policy.queueTimeout;
      return new ConcurrencyLimitedService(inner, limiter, (limit, waited) =>
        refuse(limit, policy.adaptive ? ' (adaptive limit)' : waited ? ` and none freed within ${queueTimeout}ms in the queue` : ''),
      );
    },
    state() {
      if (policy === false) return undefined;
      return {
        adaptive: policy.adaptive,
        limit: limiter?.limit ?? (policy.adaptive ? policy.initial : policy.max),
        inFlight: limiter?.inFlight ?? 0,
        queued: limiter?.queue?.length ?? 0,
        shed,
        ...limiter?.details(),
      };
    },
    stopAdmitting(reason: Error) {
      limiter?.queue?.rejectAll(reason);
    },
    async close() {
      limiter?.queue?.rejectAll(clientClosedWhileQueued(service));
    },
  };
}

/** Admits a call when its limiter has a slot, queues it when the limiter has room to wait, refuses it otherwise. */
export class ConcurrencyLimitedService implements Service {
  readonly #inner: Service;
  readonly #limiter: Limiter;
  /** The refusal: `waited` when the call gave up in the queue. */
  readonly #refuse: (limit: number, waited: boolean) => MeshError;

  constructor(inner: Service, limiter: Limiter, refuse: (limit: number, waited: boolean) => MeshError) {
    this.#inner = inner;
    this.#limiter = limiter;
    this.#refuse = refuse;
  }

  call(request: MeshRequest, attempt: Attempt): Promise<MeshResponse> {
    const limiter = this.#limiter;
    if (limiter.tryAcquire()) return this.#run(request, attempt);
    const queue = limiter.queue;
    if (queue === undefined || queue.full) return Promise.reject(this.#refuse(limiter.limit, false));
    // NOTE: a slot handed over by a finishing call stays taken: the waiter holds it now.
    return queue.wait(attempt.call).then(
      () => this.#run(request, attempt),
      (error: unknown) => {
        if (error === SlotQueue.TIMED_OUT) throw this.#refuse(limiter.limit, true);
        if (error === SlotQueue.QUEUE_FULL) throw this.#refuse(limiter.limit, false);
        throw error;
      },
    );
  }

  #run(request: MeshRequest, attempt: Attempt): Promise<MeshResponse> {
    let pending: Promise<MeshResponse>;
    try {
      pending = this.#inner.call(request, attempt);
    } catch (error) {
      this.#limiter.cancel();
      return Promise.reject(error);
    }
    this.#limiter.track(pending);
    return pending;
  }
}
