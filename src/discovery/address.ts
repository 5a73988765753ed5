/**
 * Endpoint addresses as users write them (`127.0.0.1:9001`, `[::1]:9001`, `http://h:p`,
 * `https://10.0.0.7:8443`) turned into the one `EndpointAddress` shape every resolver
 * reports. The id is what the balancer keys pools and outlier state on, so the same endpoint
 * must always get the same id whichever way it was written or discovered.
 *
 * An address with credentials (`http://user:pw@host:1`) is refused: meshlet sends an
 * endpoint's userinfo nowhere (undici would drop it), so accepting it would silently send
 * unauthenticated calls, and the id would carry the password into state and logs.
 */
import type { EndpointAddress } from '../core/endpoint.ts';
import { MeshError } from '../core/errors.ts';
import { redactText } from '../core/redact.ts';

/** Why an address with userinfo is refused, in the schema's words and the resolvers' alike. */
export const CREDENTIALS_IN_ADDRESS =
  'credentials are not allowed in an endpoint address (meshlet sends them nowhere): remove them and send credentials in a request header such as authorization';

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

export interface AddressLabels {
  readonly weight: number;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
}

const NO_LABELS: AddressLabels = { weight: 1, tags: [], meta: {} };

/** `host:port` (IPv6 bracketed) for http, `https://host:port` for https. */
export function addressId(protocol: 'http' | 'https', host: string, port: number): string {
  const hostPort = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return protocol === 'https' ? `https://${hostPort}` : hostPort;
}

export function makeAddress(protocol: 'http' | 'https', host: string, port: number, labels: AddressLabels = NO_LABELS): EndpointAddress {
  return { id: addressId(protocol, host, port), protocol, host, port, weight: labels.weight, tags: labels.tags, meta: labels.meta };
}

function invalid(spec: string, why: string): MeshError {
  // NOTE: never echo credentials into an error message (it ends up in logs and state).
  const shown = redactText(spec);
  return new MeshError(
    'MESH_CONFIG_INVALID',
    `Invalid endpoint address "${shown}" (${why}): write host:port, [ipv6]:port or http(s)://host[:port]`,
    { issues: [{ path: 'endpoints', message: `${shown}: ${why}` }] },
  );
}

/** The URL an address spec denotes (`host:port` reads as http), or undefined when it is none. */
function toUrl(trimmed: string): URL | undefined {
  try {
    return new URL(SCHEME.test(trimmed) ? trimmed : `http://${trimmed}`);
  } catch {
    return undefined;
  }
}

/** True when the spec carries userinfo: `user:pw@host:1`, `http://token@host:1`. */
export function hasUserinfo(spec: string): boolean {
  const url = toUrl(spec.trim());
  return url !== undefined && (url.username !== '' || url.password !== '');
}

export function parseAddress(spec: string, labels: AddressLabels = NO_LABELS): EndpointAddress {
  const trimmed = spec.trim();
  const hasScheme = SCHEME.test(trimmed);
  const url = toUrl(trimmed);
  if (url === undefined) throw invalid(spec, 'invalid host or port');
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(spec, `unsupported scheme ${url.protocol}`);
  if (url.username !== '' || url.password !== '') throw invalid(spec, CREDENTIALS_IN_ADDRESS);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') throw invalid(spec, 'an address has no path or query');
  if (url.hostname === '') throw invalid(spec, 'missing host');
  const protocol = url.protocol === 'https:' ? 'https' : 'http';
  // URL drops a scheme's default port; a bare host:port must spell its port out.
  if (!hasScheme && !/:\d+$/.test(trimmed)) throw invalid(spec, 'missing port');
  const port = url.port === '' ? (protocol === 'https' ? 443 : 80) : Number(url.port);
  if (port === 0) throw invalid(spec, 'port 0 is not a listening port');
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return makeAddress(protocol, host, port, labels);
}
