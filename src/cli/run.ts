/**
 * The `meshlet` command line: argument parsing and dispatch to one file per command, and the
 * one place a command's failure becomes a message on stderr and an exit code. Runs in-process
 * for main.ts and for tests alike.
 */
import { parseArgs } from 'node:util';
import { isMeshError } from '../core/errors.ts';
import { redactText } from '../core/redact.ts';
import { get } from './get.ts';
import { CliFailure, type CliIo, EXIT, type ExitCode } from './io.ts';
import { formatIssues } from './issues.ts';
import { type PushHooks, push } from './push.ts';
import { validate } from './validate.ts';

export const HELP = `meshlet: check and change the config of a fleet of meshlet meshes

Usage:
  meshlet validate <file>
      Checks a JSON or YAML config exactly as a mesh checks one; prints every problem with
      its path.
  meshlet push <file> --to consul://host:port/prefix [--service <name>] [--prune] [--dry-run]
      Checks the file, reads what Consul KV holds under the prefix, checks the result (what
      KV will hold after the push, as the meshes assemble it), shows a per-key diff, and
      writes each changed key with cas, so two operators cannot overwrite each other.
      --service <name>  push only services.<name> from the file
      --prune           delete <prefix>/defaults and <prefix>/services/* keys the file lacks
                        (not with --service, which pushes one key)
      --dry-run         show the diff; write nothing
      The diff shows credentials as ***; a file holding *** where a credential goes (a
      document printed by get without --show-secrets) is refused.
  meshlet get consul://host:port/prefix [--service <name>] [--format json|yaml] [--show-secrets]
      Prints the config document the meshes watching the prefix assemble from KV, with
      credentials (a Redis URL's password, secret-named values) shown as ***.
      --show-secrets    print credentials as stored (to edit the document and push it back)

  consul+https://host:port/prefix reaches the agent over https (CA from CONSUL_CACERT).
  The ACL token comes from --token-file <file>, else CONSUL_HTTP_TOKEN or
  CONSUL_HTTP_TOKEN_FILE; it is sent only as X-Consul-Token and never printed.

Exit codes:
  0  done (push: written, or nothing to write; validate: valid)
  1  the config is invalid: the file, or what KV would hold after the push (get: what KV holds)
  2  bad command line, or a file that cannot be read
  3  push: a key changed in Consul after push read it; re-run push to see the new diff
  4  Consul failed: unreachable, refused (ACL token), or an error
  70 an unexpected error: a bug in meshlet
`;

const OPTIONS = {
  to: { type: 'string' },
  service: { type: 'string' },
  prune: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  format: { type: 'string' },
  'token-file': { type: 'string' },
  'show-secrets': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Which options each command takes. */
const ACCEPTS: Readonly<Record<string, readonly string[]>> = {
  validate: [],
  push: ['to', 'service', 'prune', 'dry-run', 'token-file'],
  get: ['service', 'format', 'token-file', 'show-secrets'],
};

/** `hooks` are for tests (push's deterministic race); main.ts passes none. */
export async function run(argv: readonly string[], io: CliIo, hooks: PushHooks = {}): Promise<ExitCode> {
  try {
    return await dispatch(argv, io, hooks);
  } catch (error) {
    if (error instanceof CliFailure) {
      io.stderr.write(`meshlet: ${redactText(error.message)}\n`);
      if (error.exit === EXIT.usage && /required|expected|unknown|takes/i.test(error.message)) io.stderr.write('Run meshlet --help for usage.\n');
      return error.exit;
    }
    if (isMeshError(error) && error.code === 'MESH_CONFIG_INVALID') {
      io.stderr.write(formatIssues('meshlet: the config is invalid', error));
      return EXIT.invalid;
    }
    if (isMeshError(error) && error.code === 'MESH_CONSUL_FAILED') {
      io.stderr.write(`meshlet: ${error.message}\n`);
      return EXIT.consul;
    }
    io.stderr.write(`meshlet: unexpected error (a bug in meshlet; please report it): ${redactText(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
    return EXIT.internal;
  }
}

async function dispatch(argv: readonly string[], io: CliIo, hooks: PushHooks): Promise<ExitCode> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; args: string[] }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CliFailure(EXIT.usage, error instanceof Error ? error.message.split('\n')[0]! : String(error));
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === 'help') {
    io.stdout.write(HELP);
    return EXIT.ok;
  }
  if (command === undefined) {
    io.stderr.write(HELP);
    return EXIT.usage;
  }
  const accepted = ACCEPTS[command];
  if (accepted === undefined) throw new CliFailure(EXIT.usage, `unknown command ${JSON.stringify(command)}; the commands are validate, push and get`);
  for (const name of Object.keys(values)) {
    if (!accepted.includes(name)) throw new CliFailure(EXIT.usage, `${command} takes no --${name} option`);
  }
  if (rest.length !== 1) {
    const what = command === 'get' ? 'one consul://host:port/prefix' : 'one config file';
    throw new CliFailure(EXIT.usage, `${command} takes ${what}, got ${rest.length === 0 ? 'none' : rest.length}`);
  }
  const argument = rest[0]!;
  const tokenFile = values['token-file'];
  switch (command) {
    case 'validate':
      return validate(argument, io);
    case 'push':
      return push({ file: argument, to: values.to, service: values.service, prune: values.prune, dryRun: values['dry-run'], tokenFile }, io, hooks);
    default:
      return get({ from: argument, service: values.service, format: values.format, tokenFile, showSecrets: values['show-secrets'] }, io);
  }
}
