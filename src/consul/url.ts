/**
 * The agent's address, checked once where it is configured: a typo or a token pasted into
 * the URL is a MESH_CONFIG_INVALID naming the option, at start-up, not a refused connection
 * at the first watch round. The origin it returns has no credentials, so every message may
 * name it.
 */
import { MeshError } from '../core/errors.ts';
import { redactText } from '../core/redact.ts';

/** `http(s)://host:port` of an agent URL, or MESH_CONFIG_INVALID naming `option`. */
export function consulOrigin(value: string, option: string): string {
  const shown = typeof value === 'string' ? JSON.stringify(redactText(value)) : String(value);
  const invalid = (why: string): MeshError =>
    new MeshError('MESH_CONFIG_INVALID', `${option}: ${shown} is not a Consul agent URL: ${why}; write it like "http://127.0.0.1:8500" or "https://consul.internal:8501"`, {
      issues: [{ path: option, message: why }],
    });
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('it does not parse as a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`its scheme is ${url.protocol.replace(/:$/, '')}, not http or https`);
  if (url.hostname === '') throw invalid('it names no host');
  if (url.username !== '' || url.password !== '') throw invalid('it carries credentials; give the ACL token as the consul.token option or CONSUL_HTTP_TOKEN');
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') throw invalid('it has a path, query or fragment; the agent URL is scheme, host and port only');
  return url.origin;
}
