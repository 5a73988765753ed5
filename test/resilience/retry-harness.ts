/**
 * The slice of the client stack that retries and hedging live in, built from the real
 * layers (deadline → retry → hedge → balancer → attempt → undici transport) over real
 * loopback endpoints, with a policy written inline. The retry and hedge tests use it until
 * they can go through `createMesh`; it is what the mesh builds for a service, minus
 * admission, breaker and faults.
 */
import { Attempt } from '../../src/core/attempt.ts';
import { newCall } from '../../src/core/call-context.ts';
import { type Clock, systemClock } from '../../src/core/clock.ts';
import { MeshEventEmitter } from '../../src/core/events.ts';
import type { MeshRequest, MeshResponse, Service } from '../../src/core/service.ts';
import type { HedgePolicy, RetryPolicy, ServicePolicy } from '../../src/config/policy.ts';
import { balancerLayer } from '../../src/balance/balancer-layer.ts';
import { EndpointSet } from '../../src/balance/endpoint-set.ts';
import { parseAddress } from '../../src/discovery/address.ts';
import { attemptLayer } from '../../src/resilience/attempt.ts';
import { deadlineLayer } from '../../src/resilience/deadline.ts';
import { hedgeLayer } from '../../src/resilience/hedge.ts';
import { retryLayer } from '../../src/resilience/retry.ts';
import { createRetryBudget, type RetryBudget } from '../../src/resilience/retry-budget.ts';
import type { LayerEnv } from '../../src/core/layer-env.ts';
import { createHttpDispatcher } from '../../src/transport/http/pool.ts';
import { httpTransport } from '../../src/transport/http/transport.ts';
import { policyWith } from '../support/policy.ts';
import { httpClassifier } from '../../src/transport/http/classifier.ts';

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 2,
  backoff: { base: 25, max: 250 },
  on: ['connect-error', 'reset', '502', '503', '504'],
  budget: { ratio: 0.2, minPerSecond: 10, window: 10_000 },
  maxRetryAfter: 10_000,
};

export function testPolicy(overrides: Partial<ServicePolicy> & { endpoints: readonly string[] }): ServicePolicy {
  const { endpoints, ...rest } = overrides;
  return policyWith({
    name: 'api',
    discovery: {
      type: 'static',
      endpoints: endpoints.map((address) => ({ address, weight: 1, tags: [], meta: {} })),
    },
    timeout: 5_000,
    retry: DEFAULT_RETRY,
    ...rest,
  });
}

export interface TestStack {
  readonly env: LayerEnv;
  readonly budget: RetryBudget;
  readonly events: MeshEventEmitter;
  /** One logical call, as the client makes it. */
  call(request: Partial<MeshRequest>, options?: { timeout?: number; signal?: AbortSignal }): Promise<MeshResponse>;
  /** The same call on the stack's callback form (core/service.ts `send`), as the client runs a default stack; `call` when the stack has none. */
  send(request: Partial<MeshRequest>, options?: { timeout?: number; signal?: AbortSignal }): Promise<MeshResponse>;
  close(): Promise<void>;
}

export function hedgePolicy(after: HedgePolicy['after'], maxExtraLoad = 0.5, maxAttempts = 2): HedgePolicy {
  return { after, maxExtraLoad, maxAttempts };
}

export function buildStack(policy: ServicePolicy, clock: Clock = systemClock): TestStack {
  const events = new MeshEventEmitter();
  const endpoints = new EndpointSet({
    service: policy.name,
    policy,
    clock,
    events,
    connect: (address) => createHttpDispatcher(address, policy),
  });
  if (policy.discovery.type === 'static') endpoints.update(policy.discovery.endpoints.map((e) => parseAddress(e.address)));
  const budget = createRetryBudget(policy, clock);
  const env: LayerEnv = { service: policy.name, clock, events, classifier: httpClassifier };
  const layers = [
    deadlineLayer(env),
    retryLayer(policy.retry, env, budget),
    hedgeLayer(policy.hedge, env, budget, policy.retry === false),
    attemptLayer(policy.perTryTimeout, env),
    balancerLayer(endpoints),
  ];
  let service: Service = httpTransport;
  for (let i = layers.length - 1; i >= 0; i--) service = layers[i]!.wrap(service);
  const stack = service;
  const logicalCall = (partial: Partial<MeshRequest>, options: { timeout?: number; signal?: AbortSignal }): [MeshRequest, Attempt] => {
    const method = partial.method ?? 'GET';
    const request: MeshRequest = {
      method,
      path: partial.path ?? '/',
      headers: partial.headers ?? {},
      body: partial.body ?? null,
      idempotent: partial.idempotent ?? (method === 'GET' || method === 'PUT' || method === 'DELETE'),
      replayable: partial.replayable ?? true,
      hashKey: undefined,
    };
    const now = clock.now();
    const timeout = options.timeout ?? (policy.timeout === false ? Number.POSITIVE_INFINITY : policy.timeout);
    return [request, Attempt.first(newCall(policy.name, now, now + timeout, options.signal))];
  };
  return {
    env,
    budget,
    events,
    call(partial, options = {}) {
      return stack.call(...logicalCall(partial, options));
    },
    send(partial, options = {}) {
      const send = stack.send;
      if (send === undefined) return stack.call(...logicalCall(partial, options));
      const [request, first] = logicalCall(partial, options);
      return new Promise((resolve, reject) => send.call(stack, request, first, { resolve, reject }));
    },
    close: () => endpoints.close(),
  };
}

/** A loopback port with nothing listening: connecting to it is refused. */
export async function refusedAddress(): Promise<string> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}
