/**
 * One undici Pool per endpoint: keep-alive HTTP/1.1 connections sized by the service's
 * policy, and for `https` endpoints the TLS material (CA, client certificate for mTLS,
 * servername) from `policy.tls`. The balancer owns each pool and closes it when its endpoint
 * leaves discovery, so in-flight calls finish and new ones fail as `closed` (never sent).
 * Pools are made on an endpoint's first attempt, not when discovery reports it.
 */
import type { ConnectionOptions } from 'node:tls';
import { type Dispatcher, Pool } from 'undici';
import type { ServicePolicy, TlsPolicy } from '../../config/policy.ts';
import type { EndpointAddress } from '../../core/endpoint.ts';

/** `http://host:port`, with IPv6 literals bracketed as URLs require. */
export function originOf(address: EndpointAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${address.protocol}://${host}:${address.port}`;
}

function tlsOptions(tls: TlsPolicy | undefined): ConnectionOptions {
  // No tls policy: Node's defaults (system CAs, verification on), as any https client.
  if (tls === undefined) return {};
  const options: ConnectionOptions = { rejectUnauthorized: tls.rejectUnauthorized };
  if (tls.ca !== undefined) options.ca = tls.ca;
  if (tls.cert !== undefined) options.cert = tls.cert;
  if (tls.key !== undefined) options.key = tls.key;
  // NOTE: undici derives SNI from the host name and sends none for an IP literal; an explicit
  // servername is both the SNI and the name the certificate is checked against.
  if (tls.servername !== undefined) options.servername = tls.servername;
  return options;
}

/**
 * The pool factory for one service's endpoints: the options are worked out once per policy,
 * and each call makes one endpoint's pool (the balancer calls it on an endpoint's first use).
 */
export function httpDispatcherFactory(policy: ServicePolicy): (address: EndpointAddress) => Dispatcher {
  const pool = policy.pool;
  const plain: Pool.Options = {
    // 0 would mean "unbounded" to undici; a policy always bounds connections per endpoint.
    connections: Math.max(1, pool.connections),
    keepAliveTimeout: Math.max(1, pool.keepAliveTimeout),
    connectTimeout: pool.connectTimeout,
  };
  const secure: Pool.Options = { ...plain, connect: tlsOptions(policy.tls) };
  return (address) => new Pool(originOf(address), address.protocol === 'https' ? secure : plain);
}

export function createHttpDispatcher(address: EndpointAddress, policy: ServicePolicy): Dispatcher {
  return httpDispatcherFactory(policy)(address);
}
