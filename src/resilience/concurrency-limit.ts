/**
 * Concurrency limit: bounds the calls this process has in flight to one service, so a slow
 * dependency cannot soak up every socket and every pending promise (Hystrix's semaphore
 * isolation, Envoy's max_requests). Fixed: `max` in flight plus an optional small FIFO
 * `queue` where a call may wait up to `queueTimeout` (and never past its deadline or its
 * caller's abort). Adaptive: the limit comes from measured latency (adaptive-limit.ts) and
 * there is no queue: waiting is the latency the limit is trying to avoid.
 * A refused call fails with MESH_CONCURRENCY_LIMIT and is never sent.
 */
import type { CallContext } from '../core/call-context.ts';
import { MeshError } from '../core/errors.ts';
import { outcomeOfError } from '../core/outcome.ts';
import type { Layer, MeshRequest, MeshResponse, Service } from '../core/service.ts';
import type { LayerEnv } from '../core/layer-env.ts';
import type { ConcurrencyPolicy } from '../config/policy.ts';
import { AdaptiveLimit } from './adaptive-limit.ts';
import { SlotQueue } from './slot-queue.ts';

export function concurrencyLayer(policy: ConcurrencyPolicy | false, env: LayerEnv): Layer {
  const { service, clock } = env;
  let inFlight = 0;
  let shed = 0;
  let adaptive: AdaptiveLimit | undefined;
  let queue: SlotQueue | undefined;

  const refuse = (limit: number, why: string): MeshError => {
    shed++;
    env.events.emitLazy('shed', () => ({ service, reason: 'concurrency-limit' }));
    return new MeshError(
      'MESH_CONCURRENCY_LIMIT',
      `Call to "${service}" refused: ${limit} calls already in flight${why}. Retry later or raise concurrency.max.`,
      { service },
    );
  };

  /** Frees a slot, or hands it straight to the oldest waiter. */
  const release = (): void => {
    if (queue?.handOver() !== true) inFlight--;
  };

  const run = (inner: Service, request: MeshRequest, ctx: CallContext): Promise<MeshResponse> => {
    let pending: Promise<MeshResponse>;
    try {
      pending = inner.call(request, ctx);
    } catch (error) {
      release();
      return Promise.reject(error);
    }
    pending.then(release, release);
    return pending;
  };

  return {
    name: 'concurrency',
    wrap(inner: Service): Service {
      if (policy === false) return inner;
      if (policy.adaptive) {
        const limit = new AdaptiveLimit({ initial: policy.initial, min: policy.min, max: policy.max });
        adaptive = limit;
        return {
          call(request: MeshRequest, ctx: CallContext): Promise<MeshResponse> {
            const current = limit.limit;
            if (inFlight >= current) return Promise.reject(refuse(current, ' (adaptive limit)'));
            const startedWith = ++inFlight;
            const startedAt = clock.now();
            const done = (): void => {
              inFlight--;
              limit.onSample(clock.now() - startedAt, startedWith);
            };
            // A caller's abort ends the call early: its short latency says nothing about the dependency.
            const failed = (error: unknown): void => {
              if (outcomeOfError(error).kind === 'not-the-dependency') inFlight--;
              else done();
            };
            let pending: Promise<MeshResponse>;
            try {
              pending = inner.call(request, ctx);
            } catch (error) {
              inFlight--;
              return Promise.reject(error);
            }
            pending.then(done, failed);
            return pending;
          },
        };
      }
      const max = policy.max;
      const waiting = policy.queue > 0 ? new SlotQueue(clock, policy.queue, policy.queueTimeout, service) : undefined;
      queue = waiting;
      return {
        call(request: MeshRequest, ctx: CallContext): Promise<MeshResponse> {
          if (inFlight < max) {
            inFlight++;
            return run(inner, request, ctx);
          }
          if (waiting === undefined || waiting.full) return Promise.reject(refuse(max, ''));
          // NOTE: a slot handed over by `release` keeps inFlight unchanged (the waiter takes it).
          return waiting.wait(ctx).then(
            () => run(inner, request, ctx),
            (error: unknown) => {
              if (error === SlotQueue.TIMED_OUT) throw refuse(max, ` and none freed within ${policy.queueTimeout}ms in the queue`);
              if (error === SlotQueue.QUEUE_FULL) throw refuse(max, '');
              throw error;
            },
          );
        },
      };
    },
    state() {
      if (policy === false) return undefined;
      return {
        adaptive: policy.adaptive,
        limit: adaptive?.limit ?? (policy.adaptive ? policy.initial : policy.max),
        inFlight,
        queued: queue?.length ?? 0,
        shed,
        ...(adaptive === undefined ? {} : { gradient: adaptive.toJSON() }),
      };
    },
    stopAdmitting(reason: Error) {
      queue?.rejectAll(reason);
    },
    async close() {
      queue?.rejectAll(new MeshError('MESH_CLOSED', `The client for "${service}" was closed while this call waited for a slot; create a new one from the mesh.`, { service }));
    },
  };
}
