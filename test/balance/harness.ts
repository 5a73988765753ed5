/**
 * Test harness for the balancer: a resolved policy with only what the balancer reads, parsed
 * addresses, a set of loopback backends, and the balancer layer composed over the real HTTP
 * transport, so tests exercise the same pick → send → account path as the mesh.
 */
import { Pool, type Dispatcher } from 'undici';
import type { BalancerPolicy, OutlierPolicy, ServicePolicy } from '../../src/config/policy.ts';
import type { Attempt } from '../../src/core/attempt.ts';
import { type AttemptShape, attemptFor } from '../support/attempt.ts';
import { type Clock, systemClock } from '../../src/core/clock.ts';
import type { EndpointAddress } from '../../src/core/endpoint.ts';
import { MeshEventEmitter } from '../../src/core/events.ts';
import type { MeshRequest, MeshResponse, Service } from '../../src/core/service.ts';
import { balancerLayer } from '../../src/balance/balancer-layer.ts';
import { EndpointSet } from '../../src/balance/endpoint-set.ts';
import type { RetryBudget } from '../../src/resilience/retry-budget.ts';
import { httpTransport } from '../../src/transport/http/transport.ts';
import { type Backend, type BackendHandler, startBackend } from '../support/http-backend.ts';
import { policyWith } from '../support/policy.ts';
import { DEFAULT_OUTLIER } from '../../src/config/defaults.ts';

/** The built-in outlier policy, so balancer tests run on what users get by default. */
export { DEFAULT_OUTLIER };

export function testPolicy(balancer: BalancerPolicy, outlier: OutlierPolicy | false = DEFAULT_OUTLIER): ServicePolicy {
  return policyWith({ name: 'api', balancer, outlier, pool: { connections: 16, keepAliveTimeout: 4_000, connectTimeout: 2_000 } });
}

export function address(hostPort: string, weight = 1): EndpointAddress {
  const [host, port] = hostPort.split(':') as [string, string];
  return { id: hostPort, protocol: 'http', host, port: Number(port), weight, tags: [], meta: {} };
}

export function request(overrides: Partial<MeshRequest> = {}): MeshRequest {
  return { method: 'GET', path: '/', headers: {}, body: null, idempotent: true, replayable: true, hashKey: undefined, ...overrides };
}

export function context(clock: Clock = systemClock, shape: AttemptShape = {}): Attempt {
  return attemptFor({ service: 'api', startedAt: clock.now(), ...shape });
}

/** A dispatcher that is never sent anything: for tests about picking alone. */
export function idleDispatcher(): Dispatcher & { closed: boolean } {
  const fake = {
    closed: false,
    async close(): Promise<void> {
      fake.closed = true;
    },
  };
  return fake as unknown as Dispatcher & { closed: boolean };
}

export interface Harness {
  readonly set: EndpointSet;
  readonly service: Service;
  readonly events: MeshEventEmitter;
  call(req?: MeshRequest): Promise<MeshResponse & { endpoint: string }>;
  close(): Promise<void>;
}

export function createHarness(policy: ServicePolicy, clock: Clock = systemClock, addresses: readonly EndpointAddress[] = []): Harness {
  const events = new MeshEventEmitter();
  const set = new EndpointSet({
    service: 'api',
    policy,
    clock,
    events,
    connect: (a) => new Pool(`http://${a.host}:${a.port}`, { connections: 16 }),
  });
  set.update(addresses);
  const _budget = null as unknown as RetryBudget; // the balancer layer never touches it
  const service = balancerLayer(set).wrap(httpTransport);
  return {
    set,
    service,
    events,
    async call(req = request()) {
      const ctx = context(clock);
      const response = await service.call(req, ctx);
      await response.body.dump();
      return Object.assign(response, { endpoint: ctx.endpoint!.address.id });
    },
    close: () => set.close(),
  };
}

export async function startBackends(count: number, handler?: (index: number) => BackendHandler | undefined): Promise<Backend[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => startBackend(handler?.(i))));
}

export async function closeAll(backends: readonly Backend[]): Promise<void> {
  await Promise.all(backends.map((b) => b.close()));
}

/** Calls `total` times with `concurrency` in flight and counts which endpoint took each. */
export async function drive(harness: Harness, total: number, concurrency: number, req?: () => MeshRequest): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < total) {
      started++;
      const response = await harness.call(req?.());
      counts.set(response.endpoint, (counts.get(response.endpoint) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return counts;
}
