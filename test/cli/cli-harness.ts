/**
 * Runs the `meshlet` command as operators do, in a child process (`node src/cli/main.ts …`),
 * or in-process through run() where a test needs a hook (push's deterministic race). Config
 * files go to a temporary directory; each test uses its own KV prefix.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { PushHooks } from '../../src/cli/push.ts';
import { run } from '../../src/cli/run.ts';

export const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `meshlet <args>` in a child process with only `env` (and PATH) in its environment. */
export function meshlet(args: readonly string[], options: { cwd: string; env?: Record<string, string> }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { cwd: options.cwd, env: { PATH: process.env.PATH ?? '', ...options.env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : undefined;
        if (code === undefined) reject(error);
        else resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The same command in this process, with push's test hooks. */
export async function meshletInProcess(args: readonly string[], options: { cwd: string; env?: Record<string, string> }, hooks: PushHooks): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(
    args,
    {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      env: options.env ?? {},
      cwd: options.cwd,
    },
    hooks,
  );
  return { code, stdout, stderr };
}

export interface ConfigDir {
  readonly path: string;
  /** Writes `name` (JSON for an object, the text as is otherwise) and returns its name. */
  write(name: string, content: string | object): Promise<string>;
  remove(): Promise<void>;
}

export async function configDir(): Promise<ConfigDir> {
  const path = await mkdtemp(join(tmpdir(), 'meshlet-cli-'));
  return {
    path,
    write: async (name, content) => {
      await writeFile(join(path, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
      return name;
    },
    remove: () => rm(path, { recursive: true, force: true }),
  };
}

/** Call inside a describe(): its config directory, made in before() and removed in after(). */
export function suiteConfigDir(): ConfigDir {
  let made: ConfigDir | undefined;
  before(async () => {
    made = await configDir();
  });
  after(() => made?.remove());
  const dir = (): ConfigDir => {
    if (made === undefined) throw new Error("the suite's config dir is made in its before(): use it inside a hook or a test");
    return made;
  };
  return {
    get path() {
      return dir().path;
    },
    write: (name, content) => dir().write(name, content),
    remove: () => dir().remove(),
  };
}

/** `consul://127.0.0.1:PORT/prefix` for an agent URL. */
export function consulUrl(agentUrl: string, prefix: string): string {
  return `consul://${new URL(agentUrl).host}/${prefix}`;
}
