/**
 * Child processes the benchmarks lean on: the backend server in its own process, and a
 * local HAProxy (Debian's package, installed on demand) as the sidecar baseline. Each
 * returns a `stop()` that ends exactly the process it started. Both run pinned to the server CPU
 * (cpu-pin.ts: taskset execs the program, so the child is still the server itself).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pinnedCommand } from './cpu-pin.ts';

export interface Running {
  readonly port: number;
  /** The process's id (taskset execs the program, so it is the server's own), for its CPU time. */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

function stopper(child: ChildProcess, cleanup?: () => void): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    cleanup?.();
  };
}

/** Starts bench/support/tiny-server.ts with this Node binary, on the server CPU. */
export async function startTinyServer(): Promise<Running> {
  const script = new URL('./tiny-server.ts', import.meta.url).pathname;
  const [command, args] = pinnedCommand('server', process.execPath, [script]);
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`tiny-server exited with ${code}`)));
    child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
  });
  return { port, pid: child.pid, stop: stopper(child) };
}

/**
 * CPU time (user + system) a process has used so far, in µs, from /proc (Linux); undefined
 * elsewhere or once it is gone. NOTE: /proc counts in clock ticks (10 ms at the usual 100 Hz),
 * so a round's figure is coarse; it is read over whole rounds, for the server's utilisation.
 */
export function processCpuUs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) in parentheses: utime is the 14th field, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1e6;
  } catch {
    return undefined;
  }
}

/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS = 100;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function haproxyBinary(): string | undefined {
  for (const candidate of ['haproxy', '/usr/sbin/haproxy']) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' });
      return candidate;
    } catch {}
  }
  return undefined;
}

/** Finds HAProxy, installing Debian's package if it is missing; undefined if that fails. */
export function ensureHaproxy(): string | undefined {
  const found = haproxyBinary();
  if (found !== undefined) return found;
  try {
    console.log('haproxy missing: apt-get install -y haproxy ...');
    execFileSync('apt-get', ['install', '-y', '-q', 'haproxy'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch (error) {
    console.log(`could not install haproxy (${(error as Error).message.split('\n')[0]})`);
  }
  return haproxyBinary();
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > end) throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** HAProxy in HTTP mode on loopback, keep-alive on both sides, in front of `backendPort`. */
export async function startHaproxy(binary: string, backendPort: number): Promise<Running> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'meshlet-haproxy-'));
  const config = join(dir, 'haproxy.cfg');
  writeFileSync(
    config,
    [
      'global',
      '  maxconn 4096',
      '  nbthread 1',
      'defaults',
      '  mode http',
      '  option http-keep-alive',
      '  http-reuse always',
      '  timeout connect 2s',
      '  timeout client 30s',
      '  timeout server 30s',
      'frontend meshlet_bench',
      `  bind 127.0.0.1:${port}`,
      '  default_backend upstream',
      'backend upstream',
      `  server s1 127.0.0.1:${backendPort}`,
      '',
    ].join('\n'),
  );
  // -db: stay in the foreground, so the child is HAProxy itself and stop() ends exactly it.
  const [command, args] = pinnedCommand('server', binary, ['-db', '-f', config]);
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    await waitForPort(port, 5000);
  } catch (error) {
    await stopper(child, cleanup)();
    throw error;
  }
  return { port, pid: child.pid, stop: stopper(child, cleanup) };
}
