/**
 * What every `meshlet` command shares: where it writes, the environment it reads, its exit
 * codes (listed in `meshlet --help`; scripts branch on them), and the one error a command
 * raises to end with a message and a code.
 */

export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where relative paths start (default: the working directory). */
  readonly cwd?: string;
}

export const EXIT = {
  ok: 0,
  /** The config (the file, or what KV would hold after the push) is invalid. */
  invalid: 1,
  /** Bad command line, or a file that cannot be read. */
  usage: 2,
  /** `push`: a key changed in Consul after push read it; nothing more was written. */
  conflict: 3,
  /** Consul failed: unreachable, refused (ACL), or an error. */
  consul: 4,
  /** A bug in meshlet (sysexits' EX_SOFTWARE), not a verdict on the config. */
  internal: 70,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Ends a command: `message` goes to stderr, the process exits with `exit`. */
export class CliFailure extends Error {
  readonly exit: ExitCode;

  constructor(exit: ExitCode, message: string) {
    super(message);
    this.name = 'CliFailure';
    this.exit = exit;
  }
}
