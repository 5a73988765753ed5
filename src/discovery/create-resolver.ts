/**
 * Picks the resolver for a service's discovery policy: the one place that knows every
 * discovery type, so a new source is a new file plus one case here.
 */
import type { Clock } from '../core/clock.ts';
import type { ServicePolicy } from '../config/policy.ts';
import { DnsResolver } from './dns-resolver.ts';
import type { Resolver } from './resolver.ts';
import { StaticResolver } from './static-resolver.ts';

export function createResolver(policy: ServicePolicy, clock: Clock): Resolver {
  const discovery = policy.discovery;
  switch (discovery.type) {
    case 'static':
      return new StaticResolver(discovery.endpoints);
    case 'dns':
      return new DnsResolver(discovery, clock);
  }
}
