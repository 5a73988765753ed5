/**
 * `meshlet get consul://host:port/prefix [--service name] [--format json|yaml]`: the config
 * document the meshes watching that prefix assemble from KV, printed so it can be reviewed,
 * diffed, or edited and pushed back. A document a mesh would refuse is still printed when it
 * parses, with its problems (each naming its key) on stderr and exit code 1.
 * Credentials are printed as `***` unless `--show-secrets` asks for them: a document printed
 * to a terminal or a CI log is read by more people than the token that fetched it allows.
 */
import YAML from 'yaml';
import { documentFromEntries } from '../control/consul-layout.ts';
import { isMeshError } from '../core/errors.ts';
import { redactValue } from '../core/redact.ts';
import { consulTarget } from './consul-target.ts';
import { CliFailure, type CliIo, EXIT, type ExitCode } from './io.ts';
import { formatIssues } from './issues.ts';
import { assemble, readEntries } from './kv-config.ts';

export interface GetOptions {
  readonly from: string | undefined;
  readonly service?: string | undefined;
  readonly format?: string | undefined;
  readonly tokenFile?: string | undefined;
  readonly showSecrets?: boolean | undefined;
}

export async function get(options: GetOptions, io: CliIo): Promise<ExitCode> {
  const format = options.format ?? 'json';
  if (format !== 'json' && format !== 'yaml') throw new CliFailure(EXIT.usage, `--format: expected json or yaml, got ${JSON.stringify(format)}`);
  const target = await consulTarget(options.from, options.tokenFile, io, 'get');
  try {
    const entries = await readEntries(target);
    if (entries.length === 0) {
      // Consul answers a recursive read it filtered to nothing (ACLs) as it answers an empty prefix.
      io.stderr.write(`note: no keys under ${target.shown}; with Consul ACLs on, a token without key:read on the prefix sees none\n`);
    }
    let document: Record<string, unknown>;
    let exit: ExitCode = EXIT.ok;
    try {
      document = (await assemble(target.prefix, entries)).document;
    } catch (error) {
      if (!isMeshError(error)) throw error;
      io.stderr.write(formatIssues(`The config in ${target.shown} would be refused by every mesh`, error));
      // Print what parses, so the operator sees what the meshes were sent.
      try {
        document = (await documentFromEntries(target.prefix, entries)).document;
      } catch {
        return EXIT.invalid;
      }
      exit = EXIT.invalid;
    }
    const whole = options.service === undefined ? document : only(document, options.service, target.shown);
    const shown = options.showSecrets === true ? whole : redactValue(whole);
    if (JSON.stringify(shown) !== JSON.stringify(whole)) io.stderr.write('note: credentials are shown as ***; --show-secrets prints them (to edit this document and push it back)\n');
    io.stdout.write(format === 'yaml' ? YAML.stringify(shown) : `${JSON.stringify(shown, null, 2)}\n`);
    return exit;
  } finally {
    await target.client.close();
  }
}

/** The defaults and the one service: what that service's policy is made of. */
function only(document: Record<string, unknown>, service: string, shown: string): Record<string, unknown> {
  const services = (document.services ?? {}) as Record<string, unknown>;
  if (!Object.hasOwn(services, service)) throw new CliFailure(EXIT.invalid, `${shown} has no entry for service ${JSON.stringify(service)}`);
  return { ...(document.defaults !== undefined && { defaults: document.defaults }), services: { [service]: services[service] } };
}
