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
 * push that changes `tls` reaches clients made after it, and live ones report it (reportTlsChange).
 */
import grpc from '@grpc/grpc-js';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { configInvalid } from '../../config/config-error.ts';
import type { ServicePolicy } from '../../config/policy.ts';
import { MeshError } from '../../core/errors.ts';
import type { Mesh, ServiceView } from '../../mesh/mesh.ts';
import { TLS_PER_ENDPOINT } from './balancer.ts';

export interface ChannelSecurity {
  readonly credentials: ChannelCredentials;
  /** Channel options that go with them (the servername override). */
  readonly options: Record<string, string | number>;
  /** The `tls` policy they were made from (tlsKey), to notice a push that changes it. */
  readonly tls: string;
}

const PLAINTEXT_CREDENTIALS = grpc.credentials.createInsecure();

function tlsKey(policy: ServicePolicy | undefined): string {
  return JSON.stringify(policy?.tls ?? null);
}

function buffer(pem: string | undefined): Buffer | null {
  return pem === undefined ? null : Buffer.from(pem);
}

/**
 * grpc-js builds the secure context at once (tls.createSecureContext): a key that does not
 * match its certificate or PEM that does not decode throws OpenSSL's bare Error there, which
 * mesh.grpc() turns into the config error naming the service's tls block (no PEM in it).
 */
function sslCredentials(service: string, tls: ServicePolicy['tls']): ChannelCredentials {
  try {
    return grpc.credentials.createSsl(buffer(tls?.ca), buffer(tls?.key), buffer(tls?.cert), { rejectUnauthorized: tls?.rejectUnauthorized ?? true });
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? 'an error';
    const issue = { path: `services.${service}.tls`, message: `no TLS credentials can be made from ca, cert and key (${why}: ${(error as Error).message}); check cert and key are one PEM pair and each file is whole` };
    throw configInvalid([issue], `the tls config of '${service}'`);
  }
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
    return { credentials: PLAINTEXT_CREDENTIALS, options: {}, tls: tlsKey(undefined) };
  }
  const tls = policy.tls;
  if (tls === undefined && !https) return { credentials: PLAINTEXT_CREDENTIALS, options: {}, tls: tlsKey(policy) };
  const credentials = sslCredentials(service, tls);
  // NOTE: grpc-js checks a certificate against the channel's authority, which is the service's
  // name here (`meshlet:///inventory`); without a servername each endpoint's subchannel checks
  // it against that endpoint's host instead, as HTTPS does (balancer.ts).
  const options: Record<string, string | number> = tls?.servername === undefined ? { [TLS_PER_ENDPOINT]: 1 } : { 'grpc.ssl_target_name_override': tls.servername };
  return { credentials, options, tls: tlsKey(policy) };
}

const reported = new WeakSet<object>();

/**
 * Reports, once per runtime, that the service's `tls` changed since the client's channel was
 * made (a push): the live channel keeps its credentials (a `control-error` event and a process
 * warning say so); clients made after the push use the new ones.
 */
export function reportTlsChange(view: ServiceView, service: string, madeWith: string | undefined): void {
  const runtime = view.runtime;
  if (madeWith === undefined || reported.has(runtime) || tlsKey(runtime.policy) === madeWith) return;
  reported.add(runtime);
  const error = new MeshError('MESH_BAD_REQUEST', `the tls config of '${service}' changed, and a live gRPC client keeps the credentials its channel was made with (grpc-js cannot change them): make the client again (mesh.grpc()) to use the new ones`);
  view.events.emitLazy('control-error', () => ({ source: `grpc:${service}`, error }));
  process.emitWarning(error.message, { code: 'MESHLET_GRPC_TLS_NOT_APPLIED' });
}
