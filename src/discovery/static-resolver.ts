/**
 * Static discovery: the endpoints listed in config. It reports its one answer at start and
 * never changes; a config edit that changes the list builds a new resolver. Addresses are
 * parsed up front so a typo fails at config time, not on the first call.
 */
import type { EndpointAddress } from '../core/endpoint.ts';
import type { StaticEndpointSpec } from '../config/policy.ts';
import { parseAddress } from './address.ts';
import type { Resolver, ResolverListener } from './resolver.ts';

export class StaticResolver implements Resolver {
  readonly endpoints: readonly EndpointAddress[];

  constructor(specs: readonly StaticEndpointSpec[]) {
    const byId = new Map<string, EndpointAddress>();
    for (const spec of specs) {
      const address = parseAddress(spec.address, spec);
      // The same endpoint written twice is one endpoint (its first labels win), not double weight.
      if (!byId.has(address.id)) byId.set(address.id, address);
    }
    this.endpoints = Object.freeze([...byId.values()]);
  }

  async start(listener: ResolverListener): Promise<void> {
    listener.update(this.endpoints);
  }

  async close(): Promise<void> {}
}
