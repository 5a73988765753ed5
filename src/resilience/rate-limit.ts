/**
 * Rate limit: admission before any work, so a call over the limit fails at once with
 * MESH_RATE_LIMITED and is never sent (DESIGN §3). Protects a dependency from this
 * service's bursts and enforces an agreed quota.
 *
 * Semantics: a token bucket of `burst` tokens refilled at `rps` a second, in memory and
 * synchronous (no await on the hot path). With `scope: 'global'`, a call must also get a
 * point from the shared Redis limiter (rate-limit-global.ts), which caps the whole fleet at
 * `rps`; the local bucket in front still shapes this process's bursts and spares Redis a
 * round trip for calls the process would refuse anyway. The wait for Redis is bounded by the
 * call's deadline and abort (rate-limit-global.ts), like every wait in the call path.
 */
import type { Attempt } from '../core/attempt.ts';
import { MeshError } from '../core/errors.ts';
import { rateLimited } from '../core/mesh-errors.ts';
import type { Layer, MeshRequest, MeshResponse, Service } from '../core/service.ts';
import type { LayerEnv } from '../core/layer-env.ts';
import type { RateLimitPolicy } from '../config/policy.ts';
import { createGlobalLimiter, type GlobalLimiter } from './rate-limit-global.ts';
import { TokenBucket } from './token-bucket.ts';

export function rateLimitLayer(policy: RateLimitPolicy | false, env: LayerEnv): Layer {
  const { service } = env;
  let bucket: TokenBucket | undefined;
  let global: GlobalLimiter | undefined;
  let admitted = 0;
  let shed = 0;

  const refuse = (retryInMs: number): Promise<never> => {
    shed++;
    env.events.emitLazy('shed', () => ({ service, reason: 'rate-limited' }));
    return Promise.reject(rateLimited(service, policy === false ? 0 : policy.rps, retryInMs));
  };

  const countAdmitted = (): void => {
    admitted++;
  };

  return {
    name: 'rate-limit',
    wrap(inner: Service): Service {
      if (policy === false) return inner;
      const local = new TokenBucket(env.clock, policy.rps, policy.burst);
      bucket = local;
      if (policy.scope === 'global') {
        if (policy.redis === undefined) {
          throw new MeshError('MESH_CONFIG_INVALID', `rateLimit.scope "global" for "${service}" needs rateLimit.redis (a redis:// URL).`, { service });
        }
        const shared = createGlobalLimiter(service, policy.rps, policy.redis, env.clock);
        global = shared;
        return new GloballyRateLimitedService(inner, local, shared, refuse, countAdmitted);
      }
      return new RateLimitedService(inner, local, refuse, countAdmitted);
    },
    state() {
      if (policy === false || bucket === undefined) return undefined;
      return {
        scope: policy.scope,
        rps: policy.rps,
        burst: policy.burst,
        tokens: bucket.tokens,
        admitted,
        shed,
        ...(global === undefined ? {} : { global: global.state() }),
      };
    },
    async close() {
      global?.close();
      global = undefined;
    },
  };
}

type Refuse = (retryInMs: number) => Promise<never>;

/** A local token bucket in front of the service (named, so it shows in traces and profiles). */
class RateLimitedService implements Service {
  readonly #inner: Service;
  readonly #bucket: TokenBucket;
  readonly #refuse: Refuse;
  readonly #admitted: () => void;

  constructor(inner: Service, bucket: TokenBucket, refuse: Refuse, admitted: () => void) {
    this.#inner = inner;
    this.#bucket = bucket;
    this.#refuse = refuse;
    this.#admitted = admitted;
  }

  call(request: MeshRequest, attempt: Attempt): Promise<MeshResponse> {
    if (!this.#bucket.tryTake()) return this.#refuse(this.#bucket.msUntilToken());
    this.#admitted();
    return this.#inner.call(request, attempt);
  }
}

/** The local bucket, then a point from the fleet-wide limit in Redis, bounded by the call's deadline and abort. */
class GloballyRateLimitedService implements Service {
  readonly #inner: Service;
  readonly #bucket: TokenBucket;
  readonly #shared: GlobalLimiter;
  readonly #refuse: Refuse;
  readonly #admitted: () => void;

  constructor(inner: Service, bucket: TokenBucket, shared: GlobalLimiter, refuse: Refuse, admitted: () => void) {
    this.#inner = inner;
    this.#bucket = bucket;
    this.#shared = shared;
    this.#refuse = refuse;
    this.#admitted = admitted;
  }

  async call(request: MeshRequest, attempt: Attempt): Promise<MeshResponse> {
    if (!this.#bucket.tryTake()) return this.#refuse(this.#bucket.msUntilToken());
    if (!(await this.#shared.tryAcquire(attempt.call))) return this.#refuse(0);
    this.#admitted();
    return this.#inner.call(request, attempt);
  }
}
