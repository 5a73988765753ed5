/**
 * A picker is an immutable snapshot of "which endpoints may take calls now", consulted on
 * every attempt (grpc-js's Picker). The endpoint set builds a new one whenever membership,
 * health or the balancer policy changes; between rebuilds a pick touches no shared list, so
 * it is O(1) (ring-hash O(log n)), never awaits, and allocates nothing.
 */
import type { Clock } from '../core/clock.ts';
import type { MeshRequest } from '../core/service.ts';
import type { BalancerPolicy } from '../config/policy.ts';
import type { LiveEndpoint } from './live-endpoint.ts';
import { WeightedSampler, type RandomSource } from './weighted-sampler.ts';
import { RandomPicker } from './random.ts';
import { RoundRobinPicker } from './round-robin.ts';
import { p2cEwmaPicker } from './p2c-ewma.ts';
import { p2cLeastRequestPicker } from './p2c-least-request.ts';
import { RingHashPicker } from './ring-hash.ts';

export interface Picker {
  /** Endpoints this snapshot picks from. */
  readonly size: number;
  /** An endpoint for this attempt, not `avoid` when another one exists; undefined only when size is 0. */
  pick(request: MeshRequest, avoid: LiveEndpoint | undefined): LiveEndpoint | undefined;
}

export interface PickerEnvironment {
  readonly clock: Clock;
  readonly random: RandomSource;
}

const EMPTY: Picker = { size: 0, pick: () => undefined };

export function createPicker(policy: BalancerPolicy, endpoints: readonly LiveEndpoint[], env: PickerEnvironment): Picker {
  if (endpoints.length === 0) return EMPTY;
  switch (policy.policy) {
    case 'p2c-ewma':
      return p2cEwmaPicker(new WeightedSampler(endpoints, env.random), env.clock, policy.decay);
    case 'p2c-least-request':
      return p2cLeastRequestPicker(new WeightedSampler(endpoints, env.random));
    case 'round-robin':
      return new RoundRobinPicker(endpoints, env.random);
    case 'random':
      return new RandomPicker(new WeightedSampler(endpoints, env.random));
    case 'ring-hash':
      return new RingHashPicker(endpoints, policy, new WeightedSampler(endpoints, env.random));
  }
}
