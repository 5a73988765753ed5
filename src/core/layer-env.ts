/**
 * What every layer may use besides its own policy slice: the service it serves, the clock,
 * the event emitter and the protocol's classifier. A layer factory takes its slice of the
 * service's policy and this, plus the shared objects it alone needs (the retry budget, the
 * endpoint source), never the whole policy: the stack file (`src/stack/client-stack.ts`)
 * decides which layers exist and hands each what it needs.
 */
import type { Clock } from './clock.ts';
import type { MeshEventEmitter } from './events.ts';
import type { Classifier } from './outcome.ts';
import type { MeshResponse } from './service.ts';

export interface LayerEnv {
  /** The logical service the stack calls. */
  readonly service: string;
  readonly clock: Clock;
  readonly events: MeshEventEmitter;
  /** The protocol's classifier, for results no transport classified (a synthetic response). */
  readonly classifier: Classifier<MeshResponse>;
}
