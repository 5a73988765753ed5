/**
 * One undici Pool per endpoint: keep-alive HTTP/1.1 connections sized by the service's
 * policy, and for `https` endpoints the TLS material (CA, client certificate for mTLS,
 * servername) from `policy.tls`. The pool is the endpoint's connection (core's
 * EndpointConnection): made by `httpConnector` on the endpoint's first attempt, not when
 * discovery reports it, and closed by the endpoint set when the endpoint leaves, so in-flight
 * calls finish and new ones fail as `closed` (never sent).
 */
import type { ConnectionOptions } from 'node:tls';
import { Pool } from 'undici';
import type { ServicePolicy, TlsPolicy } from '../../config/policy.ts';
import { type EndpointAddress, originOf } from '../../core/endpoint.ts';

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
 * The Connector for one service's endpoints: the options are worked out once per policy, and
 * each call makes one endpoint's pool (an endpoint calls it on its first attempt).
 */
export function httpConnector(policy: ServicePolicy): (address: EndpointAddress) => Pool {
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

export function createHttpDispatcher(address: EndpointAddress, policy: ServicePolicy): Pool {
  return httpConnector(policy)(address);
}
