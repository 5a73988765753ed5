/**
 * Which Consul agent a mesh talks to (DESIGN §1), resolved once at createMesh:
 *
 * 1. the `consul` option (`url`, `token`, `datacenter`, `ca`);
 * 2. for what it leaves out, the agent of a `consul://` control URL (control-url.ts);
 * 3. then Consul's own environment variables, as its CLI reads them: CONSUL_HTTP_ADDR
 *    (`host:port` or a URL; CONSUL_HTTP_SSL=true makes it https), CONSUL_HTTP_TOKEN (or
 *    CONSUL_HTTP_TOKEN_FILE), CONSUL_CACERT (a PEM file).
 *
 * A `consul` option with no address anywhere means Consul's default agent,
 * http://127.0.0.1:8500; with no option, no consul:// control and no CONSUL_HTTP_ADDR there
 * is no agent (undefined), and nothing Consul-shaped is opened. Every bad value is a
 * MESH_CONFIG_INVALID naming the option or variable it came from, at start-up.
 */
import { readFileSync } from 'node:fs';
import { readPemFile } from '../config/tls-files.ts';
import type { Clock } from '../core/clock.ts';
import { MeshError } from '../core/errors.ts';
import { redactText } from '../core/redact.ts';
import type { ConsulClientOptions } from './client.ts';
import { isConsulControlUrl, parseConsulControlUrl } from './control-url.ts';
import { consulOrigin } from './url.ts';

/** createMesh's `consul` option. */
export interface ConsulAgentOption {
  /** 'http://127.0.0.1:8500' | 'https://…' */
  readonly url?: string;
  readonly token?: string;
  readonly datacenter?: string;
  /** PEM text, or the path of a PEM file (relative to `baseDir`). */
  readonly ca?: string | Buffer;
}

export interface ResolveConsulAgentInput {
  readonly consul?: ConsulAgentOption | undefined;
  /** createMesh's `control` (only a consul:// string names an agent). */
  readonly control?: unknown;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock;
  /** Where relative CA paths start (default: the working directory). */
  readonly baseDir?: string;
}

/** Consul's default agent address (its api.DefaultConfig). */
const DEFAULT_AGENT = 'http://127.0.0.1:8500';

export function resolveConsulAgent(input: ResolveConsulAgentInput): ConsulClientOptions | undefined {
  const { consul, control } = input;
  const env = input.env ?? process.env;
  const baseDir = input.baseDir ?? process.cwd();
  const url = agentUrl(consul, control, env);
  if (url === undefined) return undefined;
  const token = nonEmpty(consul?.token) ?? nonEmpty(env.CONSUL_HTTP_TOKEN) ?? tokenFile(env.CONSUL_HTTP_TOKEN_FILE);
  const ca = consul?.ca !== undefined ? pem(consul.ca, 'consul.ca', baseDir) : nonEmpty(env.CONSUL_CACERT) === undefined ? undefined : pem(env.CONSUL_CACERT!, 'CONSUL_CACERT', baseDir);
  return {
    url,
    ...(token === undefined ? {} : { token }),
    ...(ca === undefined ? {} : { ca }),
    ...(nonEmpty(consul?.datacenter) === undefined ? {} : { datacenter: consul!.datacenter! }),
    ...(input.clock === undefined ? {} : { clock: input.clock }),
  };
}

function agentUrl(consul: ConsulAgentOption | undefined, control: unknown, env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (consul !== undefined && typeof consul !== 'object') throw invalid('consul', `expected an object like { url: "http://127.0.0.1:8500", token }, got ${typeof consul}`);
  if (consul?.url !== undefined) return consulOrigin(consul.url, 'consul.url');
  if (isConsulControlUrl(control)) return parseConsulControlUrl(control).agentUrl;
  const address = nonEmpty(env.CONSUL_HTTP_ADDR);
  if (address !== undefined) return environmentAddress(address, goBool(env.CONSUL_HTTP_SSL, 'CONSUL_HTTP_SSL'));
  return consul === undefined ? undefined : DEFAULT_AGENT;
}

/** CONSUL_HTTP_ADDR as Consul's api package reads it: `host:port` or a URL; SSL never reverts to http. */
function environmentAddress(address: string, ssl: boolean): string {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(address)?.[1]?.toLowerCase();
  if (scheme === 'unix') throw invalid('CONSUL_HTTP_ADDR', 'a unix socket agent address is not supported; give the agent\'s HTTP address, e.g. "127.0.0.1:8500"');
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') throw invalid('CONSUL_HTTP_ADDR', `unknown scheme ${scheme}; use "host:port", "http://host:port" or "https://host:port"`);
  const rest = scheme === undefined ? address : address.slice(scheme.length + 3);
  const https = ssl || scheme === 'https';
  return consulOrigin(`${https ? 'https' : 'http'}://${rest}`, 'CONSUL_HTTP_ADDR');
}

/** Go's strconv.ParseBool, which Consul uses for CONSUL_HTTP_SSL. */
function goBool(value: string | undefined, name: string): boolean {
  if (value === undefined || value === '') return false;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw invalid(name, `expected true or false, got ${JSON.stringify(value)}`);
}

function tokenFile(path: string | undefined): string | undefined {
  if (nonEmpty(path) === undefined) return undefined;
  try {
    return nonEmpty(readFileSync(path!, 'utf8').trim());
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'an error';
    throw invalid('CONSUL_HTTP_TOKEN_FILE', `cannot read ${path} (${code}); check the path`);
  }
}

function pem(ca: string | Buffer, option: string, baseDir: string): string | Buffer {
  if (Buffer.isBuffer(ca) || ca.includes('-----BEGIN ')) return ca;
  const text = readPemFile(ca, baseDir);
  if (typeof text !== 'string') throw invalid(option, text.error);
  return text;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function invalid(option: string, why: string): MeshError {
  return new MeshError('MESH_CONFIG_INVALID', `${option}: ${redactText(why)}`, { issues: [{ path: option, message: why }] });
}
