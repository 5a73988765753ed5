/**
 * The Consul control URL, read in one place for the control store and the `meshlet` CLI:
 *
 *   consul://host[:port]/prefix         the agent at http://host:port (port 8500 by default)
 *   consul+https://host[:port]/prefix   the agent at https://host:port (port 8501 by default,
 *                                       Consul's usual HTTPS port); the CA from consul.ca or CONSUL_CACERT
 *
 * The token never goes in this URL (it would be echoed in state() and logs): it comes from
 * the consul.token option or CONSUL_HTTP_TOKEN.
 */
import { MeshError } from '../core/errors.ts';
import { redactText } from '../core/redact.ts';
import { consulOrigin } from './url.ts';

export interface ConsulControlUrl {
  /** The agent, e.g. `http://127.0.0.1:8500`. */
  readonly agentUrl: string;
  /** The KV prefix without leading or trailing slashes (`meshlet`); '' when the URL names none. */
  readonly prefix: string;
}

const SCHEMES: Readonly<Record<string, { readonly protocol: string; readonly port: string }>> = {
  'consul:': { protocol: 'http:', port: '8500' },
  'consul+https:': { protocol: 'https:', port: '8501' },
};

/** True for a `consul:` or `consul+https:` control string. */
export function isConsulControlUrl(value: unknown): value is string {
  return typeof value === 'string' && /^consul(\+https)?:/i.test(value);
}

export function parseConsulControlUrl(value: string, option = 'control'): ConsulControlUrl {
  const invalid = (why: string): MeshError =>
    new MeshError(
      'MESH_CONFIG_INVALID',
      `${option}: ${JSON.stringify(redactText(value))} is not a Consul control URL: ${why}; write it like "consul://127.0.0.1:8500/meshlet" (or "consul+https://consul.internal:8501/meshlet")`,
      { issues: [{ path: option, message: why }] },
    );
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('it does not parse as a URL');
  }
  const scheme = SCHEMES[url.protocol.toLowerCase()];
  if (scheme === undefined) throw invalid(`its scheme is ${url.protocol.replace(/:$/, '')}, not consul or consul+https`);
  if (url.hostname === '') throw invalid('it names no agent host');
  if (url.username !== '' || url.password !== '') throw invalid('it carries credentials; give the ACL token as the consul.token option or CONSUL_HTTP_TOKEN');
  if (url.search !== '' || url.hash !== '') throw invalid('it has a query or fragment; only the agent and the KV prefix belong in it');
  let prefix: string;
  try {
    prefix = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, '');
  } catch {
    throw invalid('its prefix has a malformed %-escape');
  }
  const agentUrl = consulOrigin(`${scheme.protocol}//${url.hostname}:${url.port === '' ? scheme.port : url.port}`, option);
  return { agentUrl, prefix };
}
