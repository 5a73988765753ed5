/**
 * Discovery answers "where are the instances of service X?". A resolver watches one source
 * (static list, DNS, Consul health) and reports every complete endpoint list it learns. On a
 * failed lookup it reports the error and keeps quiet otherwise: the balancer keeps the last
 * good list (a dependency's DNS blip must not empty a healthy pool).
 */
import type { EndpointAddress } from '../core/endpoint.ts';

export interface ResolverListener {
  /** A complete, current list (replaces the previous one). */
  update(endpoints: readonly EndpointAddress[]): void;
  /** A lookup failed; the last good list stays in force. */
  error(error: Error): void;
  /** The source answered again with no change: the list in force is current (any earlier failure is over). */
  confirmed?(): void;
  /** The answer was used, but part of it was not (an instance with an unusable address): worth telling an operator. */
  warning?(error: Error): void;
}

export interface Resolver {
  /** Starts resolving; resolves once the first answer (or first failure) was reported. */
  start(listener: ResolverListener): Promise<void>;
  close(): Promise<void>;
  /** What the source is doing, for `mesh.state()` (plain JSON; never a credential). */
  state?(): Record<string, unknown>;
}
