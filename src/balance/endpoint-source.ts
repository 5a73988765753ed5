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
import type { Attempt } from '../core/attempt.ts';
import type { MeshError } from '../core/errors.ts';
import type { MeshRequest } from '../core/service.ts';
import type { EndpointSet } from './endpoint-set.ts';
import type { LiveEndpoint } from './live-endpoint.ts';

/**
 * What the balancer layer balances over: a service's EndpointSet, or a route target's view of
 * one (routing/subset-endpoints.ts: a subset's endpoints, with failover), which shares the set's
 * endpoints and so their load statistics and ejections.
 */
export interface BalancingSet {
  readonly service: string;
  readonly closed: boolean;
  readonly size: number;
  readonly panic: boolean;
  /** What discovery reports failing now, if anything (for the error of a call that finds no endpoint). */
  readonly discoveryError?: Error | undefined;
  /** Why a pick found nothing, when the set knows better than closed/size say (a route target naming no configured service). Asked only after a failed pick. */
  noPickReason?(): MeshError | undefined;
  pick(request: MeshRequest, attempt: Attempt): LiveEndpoint | undefined;
  started(endpoint: LiveEndpoint): void;
  state(): unknown[];
}

export interface EndpointSource {
  readonly current: BalancingSet;
}

/** The mesh's source for one service: repointed when the service's endpoint set is replaced. */
export class ServiceEndpoints implements EndpointSource {
  current: EndpointSet;

  constructor(set: EndpointSet) {
    this.current = set;
  }
}
