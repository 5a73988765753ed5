/**
 * Picks the resolver for a service's discovery policy: the one place that knows every
 * discovery type, so a new source is a new file plus one case here.
 */
import type { ConsulClientOptions } from '../consul/client.ts';
import type { Clock } from '../core/clock.ts';
import type { ServicePolicy } from '../config/policy.ts';
import { ConsulResolver } from './consul-resolver.ts';
import { DnsResolver } from './dns-resolver.ts';
import type { KnownEndpointsStore } from './known-endpoints.ts';
import type { Resolver } from './resolver.ts';
import { StaticResolver } from './static-resolver.ts';

/** What resolvers need from the mesh beyond the policy. */
export interface ResolverContext {
  readonly clock: Clock;
  /** The mesh's Consul agent, which consul discovery asks (mesh/consul-agent.ts); options() throws when none is configured. */
  readonly consul: { options(): ConsulClientOptions };
  /** Last-known-good endpoint lists (the mesh's `cacheDir`); absent: none kept. */
  readonly knownEndpoints?: KnownEndpointsStore | undefined;
}

export function createResolver(policy: ServicePolicy, context: ResolverContext): Resolver {
  const discovery = policy.discovery;
  switch (discovery.type) {
    case 'static':
      return new StaticResolver(discovery.endpoints);
    case 'dns':
      return new DnsResolver(discovery, context.clock);
    case 'consul':
      return new ConsulResolver({
        name: policy.name,
        discovery,
        // Consul registers host and port, not a scheme: TLS configured for the service means https.
        protocol: policy.tls === undefined ? 'http' : 'https',
        agent: () => ({ clock: context.clock, ...context.consul.options() }),
        cache: context.knownEndpoints,
      });
  }
}
