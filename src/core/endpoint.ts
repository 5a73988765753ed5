/**
 * An endpoint as discovery reports it: an address with weight and labels. Resolvers produce
 * these; the balancer turns them into live endpoints with load stats and a connection that
 * the service's transport makes (an HTTP pool today, a gRPC channel later). Core only says
 * what a connection must do when its endpoint leaves: close, or fail what it holds.
 */

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

/**
 * What a transport keeps for one endpoint (the HTTP transport: its connection pool). The endpoint
 * set never looks inside; it only ends it when the endpoint leaves discovery or the mesh closes.
 */
export interface EndpointConnection {
  /** Lets queued requests and unread bodies finish, then releases; requests after it fail as closed, never sent. */
  close(): Promise<void>;
  /** Fails whatever it still holds with `reason` and releases at once. */
  destroy(reason: Error): Promise<void>;
}

/**
 * Makes one endpoint's connection: the service's transport supplies it when the stack is
 * built (it knows the TLS and pool settings), and an endpoint calls it on its first attempt.
 */
export type Connector = (address: EndpointAddress) => EndpointConnection;

/** The live endpoint an attempt goes to: owned by the balancer, used by the transport. */
export interface Endpoint {
  readonly address: EndpointAddress;
  /** Origin URL (`http://host:port`). */
  readonly origin: string;
  /** Made by the service's Connector when the first attempt reads it; the transport sends on it. */
  readonly connection: EndpointConnection;
}

/** `http://host:port`, with IPv6 literals bracketed as URLs require. */
export function originOf(address: EndpointAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${address.protocol}://${host}:${address.port}`;
}
