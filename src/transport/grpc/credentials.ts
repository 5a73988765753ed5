/**
 * The channel credentials of a `mesh.grpc()` client from its service's policy, so a service
 * configured for TLS is called over TLS on gRPC as on HTTP (transport/http/pool.ts reads the
 * same `tls` block). grpc-js takes credentials per channel, not per connection, so one rule
 * decides for the whole client: TLS when the service configures `tls` (the config's way of
 * saying "this service speaks TLS": Consul-discovered endpoints are https then) or when any
 * endpoint known now is `https://`; plaintext otherwise. `ca` (else the system roots), `cert` +
 * `key` (mTLS), `servername` (the SNI and the name the server's certificate must carry:
 * grpc-js's `grpc.ssl_target_name_override`; without it, each endpoint's own host) and
 * `rejectUnauthorized` mean what they mean for HTTP. Credentials the caller passes (`options.credentials`) win over all of this.
 *
 * NOTE: an endpoint named by an IP address gets that address as its TLS servername, as a bare
 * grpc-js client targeting `127.0.0.1:port` does, and Node warns once (DEP0123) as it does there.
 *
 * NOTE: read when the client is made: grpc-js cannot change a live channel's credentials, so a
 * push that changes `tls` reaches clients made after it (README).
 */
import grpc from '@grpc/grpc-js';
import type { ChannelCredentials } from '@grpc/grpc-js';
import type { ServicePolicy } from '../../config/policy.ts';
import type { Mesh } from '../../mesh/mesh.ts';
import { TLS_PER_ENDPOINT } from './balancer.ts';

export interface ChannelSecurity {
  readonly credentials: ChannelCredentials;
  /** Channel options that go with them (the servername override). */
  readonly options: Record<string, string | number>;
}

const PLAINTEXT: ChannelSecurity = { credentials: grpc.credentials.createInsecure(), options: {} };

function buffer(pem: string | undefined): Buffer | null {
  return pem === undefined ? null : Buffer.from(pem);
}

/** What the service's policy asks for; plaintext for a service the mesh does not know (its calls fail with meshlet's error). */
export function channelSecurity(mesh: Mesh, service: string): ChannelSecurity {
  let policy: ServicePolicy;
  let https = false;
  try {
    const view = mesh.serviceView(service);
    policy = view.runtime.policy;
    https = view.endpoints.current.members.some((endpoint) => endpoint.address.protocol === 'https');
  } catch {
    return PLAINTEXT;
  }
  const tls = policy.tls;
  if (tls === undefined && !https) return PLAINTEXT;
  const credentials = grpc.credentials.createSsl(buffer(tls?.ca), buffer(tls?.key), buffer(tls?.cert), { rejectUnauthorized: tls?.rejectUnauthorized ?? true });
  // NOTE: grpc-js checks a certificate against the channel's authority, which is the service's
  // name here (`meshlet:///inventory`); without a servername each endpoint's subchannel checks
  // it against that endpoint's host instead, as HTTPS does (balancer.ts).
  const options: Record<string, string | number> = tls?.servername === undefined ? { [TLS_PER_ENDPOINT]: 1 } : { 'grpc.ssl_target_name_override': tls.servername };
  return { credentials, options };
}
