/**
 * Test harness for the admission, fault and breaker layers: a real ServicePolicy, each layer
 * built from its slice of it with a real event emitter, and a tiny transport (one undici Pool per backend) so calls really
 * travel over loopback and a refused call provably never reaches the server.
 */
import { Pool } from 'undici';
import type { Attempt } from '../../src/core/attempt.ts';
import { type Clock, systemClock } from '../../src/core/clock.ts';
import { MeshEventEmitter } from '../../src/core/events.ts';
import type { Layer, MeshRequest, MeshResponse, Service } from '../../src/core/service.ts';
import type { ServicePolicy } from '../../src/config/policy.ts';
import type { LayerEnv } from '../../src/core/layer-env.ts';
import { breakerLayer } from '../../src/resilience/breaker.ts';
import { concurrencyLayer } from '../../src/resilience/concurrency-limit.ts';
import { faultLayer, type RandomSource } from '../../src/resilience/fault.ts';
import { rateLimitLayer } from '../../src/resilience/rate-limit.ts';
import { attemptFor } from '../support/attempt.ts';
import { policyWith } from '../support/policy.ts';
import { httpClassifier } from '../../src/transport/http/classifier.ts';

export function policyFor(overrides: Partial<ServicePolicy>): ServicePolicy {
  return policyWith({ name: 'payments', ...overrides });
}

export function envFor(policy: ServicePolicy, clock: Clock = systemClock, events = new MeshEventEmitter()): LayerEnv {
  return { service: policy.name, clock, events, classifier: httpClassifier };
}

/** Each layer as the stack builds it: from its own slice of the policy. */
export const rateLimitFor = (policy: ServicePolicy, clock?: Clock, events?: MeshEventEmitter): Layer => rateLimitLayer(policy.rateLimit, envFor(policy, clock, events));
export const concurrencyFor = (policy: ServicePolicy, clock?: Clock, events?: MeshEventEmitter): Layer =>
  concurrencyLayer(policy.concurrency, envFor(policy, clock, events));
export const breakerFor = (policy: ServicePolicy, clock?: Clock, events?: MeshEventEmitter): Layer => breakerLayer(policy.breaker, envFor(policy, clock, events));
export const faultFor = (policy: ServicePolicy, clock?: Clock, events?: MeshEventEmitter, random?: RandomSource): Layer =>
  faultLayer(policy.fault, envFor(policy, clock, events), random);

export interface PoolTransport extends Service {
  close(): Promise<void>;
}

/** Sends every call to one backend through a real undici Pool. */
export function poolTransport(origin: string): PoolTransport {
  const pool = new Pool(origin, { connections: 16 });
  return {
    call(request: MeshRequest, attempt: Attempt): Promise<MeshResponse> {
      return pool.request({
        path: request.path,
        method: request.method as 'GET',
        headers: request.headers,
        body: request.body,
        signal: attempt.signal,
      });
    },
    close: () => pool.close(),
  };
}

export function get(path = '/'): MeshRequest {
  return { method: 'GET', path, headers: {}, body: null, idempotent: true, replayable: true, hashKey: undefined };
}

export function ctxFor(clock: Clock = systemClock, signal?: AbortSignal, deadline = Number.POSITIVE_INFINITY): Attempt {
  return attemptFor({ service: 'payments', startedAt: clock.now(), deadline, signal });
}

/** Calls through the layer and reads the body, returning the status (or the error's code). */
export async function callStatus(service: Service, ctx: Attempt = ctxFor()): Promise<number | string> {
  try {
    const res = await service.call(get(), ctx);
    await res.body.dump();
    return res.statusCode;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

export function wrapOver(layer: Layer, inner: Service): Service {
  return layer.wrap(inner);
}

/** The layer's state snapshot, typed as the test expects it (fails when the layer has none). */
export function stateOf<T>(layer: Layer): T {
  const state = layer.state?.();
  if (state === undefined) throw new Error(`layer ${layer.name} reported no state`);
  return state as T;
}
