/**
 * Which picker a balancer policy makes. A file of its own, apart from the `Picker` interface
 * (picker.ts) that every picker implements: the pickers import the interface, this file
 * imports the pickers, so neither imports the other back.
 */
import type { Clock } from '../core/clock.ts';
import type { BalancerPolicy } from '../config/policy.ts';
import type { LiveEndpoint } from './live-endpoint.ts';
import type { Picker } from './picker.ts';
import { WeightedSampler, type RandomSource } from './weighted-sampler.ts';
import { RandomPicker } from './random.ts';
import { RoundRobinPicker } from './round-robin.ts';
import { p2cEwmaPicker } from './p2c-ewma.ts';
import { p2cLeastRequestPicker } from './p2c-least-request.ts';
import { RingHashPicker } from './ring-hash.ts';

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
