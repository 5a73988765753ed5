/**
 * Which endpoint set a service's calls balance over *now*. A config change that replaces a
 * service's discovery (or its TLS or pool settings) builds a new EndpointSet; the calls in
 * flight on the stack built before it keep running, and a retry among them must go to the
 * endpoints the service has now, not to a set that is draining (Finagle's stacks observe
 * membership through a `Var[Addr]` rather than own a copy). The old set's endpoints finish
 * the attempts already sent to them, then close their pools.
 *
 * An EndpointSet is its own source, for stacks whose set never changes (tests, benchmarks).
 */
import type { EndpointSet } from './endpoint-set.ts';

export interface EndpointSource {
  readonly current: EndpointSet;
}

/** The mesh's source for one service: repointed when the service's endpoint set is replaced. */
export class ServiceEndpoints implements EndpointSource {
  current: EndpointSet;

  constructor(set: EndpointSet) {
    this.current = set;
  }
}
