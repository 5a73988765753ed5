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

export interface StackDeps {
  readonly policy: ServicePolicy;
  readonly clock: Clock;
  readonly events: MeshEventEmitter;
  /** The service's live endpoints, as they are now (a config change may replace the set). */
  readonly endpoints: EndpointSource;
  /** One budget per service, shared by retries and hedges. */
  readonly budget: RetryBudget;
}
