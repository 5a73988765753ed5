/**
 * What the stack is built from: the service's resolved policy and the shared objects of the
 * mesh. The stack file slices it: each layer receives only its own policy slice and the
 * shared objects it needs (`src/core/layer-env.ts`), never this whole bag.
 */
import type { Clock } from '../core/clock.ts';
import type { MeshEventEmitter } from '../core/events.ts';
import type { ServicePolicy } from '../config/policy.ts';
import type { EndpointSource } from '../balance/endpoint-source.ts';
import type { RetryBudget } from '../resilience/retry-budget.ts';
import type { Layer } from '../core/service.ts';

/** The service's admission and breaker layers, made once per service and shared by its route targets' stacks. */
export interface ServiceWideLayers {
  readonly rateLimit: Layer;
  readonly concurrency: Layer;
  readonly breaker: Layer;
}

export interface StackDeps {
  readonly policy: ServicePolicy;
  readonly clock: Clock;
  readonly events: MeshEventEmitter;
  /** The service's live endpoints, as they are now (a config change may replace the set). */
  readonly endpoints: EndpointSource;
  /** One budget per service, shared by retries and hedges (and by every route target's stack). */
  readonly budget: RetryBudget;
  /** A route target's stack: the service's shared layers; absent: the stack makes its own. */
  readonly serviceWide?: ServiceWideLayers;
}
