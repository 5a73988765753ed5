/**
 * What every layer factory receives: the service's resolved policy and the shared services
 * of the mesh. A factory returns a Layer whose `wrap` returns its inner service unchanged
 * when the policy turns its feature off.
 */
import type { Clock } from '../core/clock.ts';
import type { Classifier } from '../core/outcome.ts';
import type { MeshResponse } from '../core/service.ts';
import type { MeshEventEmitter } from '../core/events.ts';
import type { ServicePolicy } from '../config/policy.ts';
import type { EndpointSource } from '../balance/endpoint-source.ts';
import type { RetryBudget } from '../resilience/retry-budget.ts';

export interface LayerDeps {
  readonly policy: ServicePolicy;
  readonly clock: Clock;
  readonly events: MeshEventEmitter;
  /** The service's live endpoints, as they are now (a config change may replace the set). */
  readonly endpoints: EndpointSource;
  /** One budget per service, shared by retries and hedges. */
  readonly budget: RetryBudget;
  /** The protocol's classifier, for results no transport classified (a synthetic response). */
  readonly classifier: Classifier<MeshResponse>;
}
