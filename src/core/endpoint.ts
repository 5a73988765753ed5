/**
 * An endpoint as discovery reports it: an address with weight and labels. Resolvers produce
 * these; the balancer turns them into live endpoints with a connection pool and load stats.
 */
import type { Dispatcher } from 'undici';

export interface EndpointAddress {
  /** Stable identity: `host:port` for plain HTTP, `https://host:port` for TLS. */
  readonly id: string;
  readonly protocol: 'http' | 'https';
  readonly host: string;
  readonly port: number;
  /** Relative weight (Consul `Weights.Passing`, or a static weight); 1 when unset. */
  readonly weight: number;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
}

/** The live endpoint an attempt goes to: owned by the balancer, used by the transport. */
export interface Endpoint {
  readonly address: EndpointAddress;
  /** Origin URL (`http://host:port`). */
  readonly origin: string;
  /** The connection pool for this endpoint. */
  readonly dispatcher: Dispatcher;
}
