/**
 * The Consul agent and KV prefix a command works on, from `consul://host:port/prefix` (or
 * `consul+https://…`, read by the one parser the control store uses), with the token and CA
 * as a mesh finds them (src/consul/agent-options.ts): `--token-file`, else CONSUL_HTTP_TOKEN
 * or CONSUL_HTTP_TOKEN_FILE, and CONSUL_CACERT. NOTE: the token travels only in the
 * X-Consul-Token header; no output of the CLI ever holds it.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { resolveConsulAgent } from '../consul/agent-options.ts';
import { ConsulClient } from '../consul/client.ts';
import { isConsulControlUrl, parseConsulControlUrl } from '../consul/control-url.ts';
import { isMeshError } from '../core/errors.ts';
import { CliFailure, type CliIo, EXIT } from './io.ts';

export interface ConsulTarget {
  readonly client: ConsulClient;
  /** The KV prefix, without slashes at either end. */
  readonly prefix: string;
  /** `consul://host:port/prefix`, for messages (no credentials can be in it). */
  readonly shown: string;
  /** Whether a token was given (--token-file, CONSUL_HTTP_TOKEN or CONSUL_HTTP_TOKEN_FILE); never which. */
  readonly tokenGiven: boolean;
}

/** Where the CLI's token comes from, as Consul's 403 advice names it (the CLI has no consul.token option). */
const TOKEN_HINT = '--token-file or CONSUL_HTTP_TOKEN';

export async function consulTarget(url: string | undefined, tokenFile: string | undefined, io: CliIo, option = '--to'): Promise<ConsulTarget> {
  if (url === undefined) throw new CliFailure(EXIT.usage, `${option} consul://host:port/prefix is required`);
  if (!isConsulControlUrl(url)) throw new CliFailure(EXIT.usage, `${option}: expected consul://host:port/prefix (or consul+https://…), got ${JSON.stringify(String(url).slice(0, 100))}`);
  try {
    const { prefix } = parseConsulControlUrl(url, option);
    if (prefix === '') throw new CliFailure(EXIT.usage, `${option}: name the KV prefix the meshes read, e.g. consul://127.0.0.1:8500/meshlet`);
    const token = tokenFile === undefined ? undefined : await readToken(tokenFile, io.cwd ?? process.cwd());
    const options = resolveConsulAgent({ control: url, consul: token === undefined ? undefined : { token }, env: io.env, baseDir: io.cwd ?? process.cwd() });
    if (options === undefined) throw new CliFailure(EXIT.usage, `${option}: no Consul agent in ${url}`);
    const client = new ConsulClient({ ...options, tokenHint: TOKEN_HINT });
    const tokenGiven = options.token !== undefined && options.token !== '';
    return { client, prefix, shown: `${url.split('/')[0]}//${new URL(client.address).host}/${prefix}`, tokenGiven };
  } catch (error) {
    if (isMeshError(error)) throw new CliFailure(EXIT.usage, error.message);
    throw error;
  }
}

async function readToken(file: string, cwd: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, file), 'utf8');
  } catch (error) {
    throw new CliFailure(EXIT.usage, `--token-file ${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'an error'})`);
  }
  const token = text.trim();
  if (token === '') throw new CliFailure(EXIT.usage, `--token-file ${file}: the file is empty`);
  return token;
}
