/**
 * A real, throwaway redis-server for tests (Debian's package, which `npm test` installs or
 * asks for through system-deps.sh): free loopback port, no persistence, ready once it answers
 * PING, frozen and thawed on demand (a hung Redis), killed on stop.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, Socket } from 'node:net';

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** Freezes the server (SIGSTOP): connections stay open and nothing answers, a hung Redis. */
  pause(): void;
  /** Thaws a paused server (SIGCONT). */
  resume(): void;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(200, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}

export async function startRedis(port?: number): Promise<RedisServer> {
  const listenOn = port ?? (await freePort());
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(listenOn), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
    { stdio: 'ignore' },
  );
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  spawnError.catch(() => {});
  for (let tries = 0; tries < 100; tries++) {
    if (await Promise.race([ping(listenOn), spawnError])) {
      return {
        url: `redis://127.0.0.1:${listenOn}`,
        port: listenOn,
        pause: () => {
          child.kill('SIGSTOP');
        },
        resume: () => {
          if (!exited) child.kill('SIGCONT');
        },
        stop: async () => {
          if (exited) return;
          const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.kill('SIGKILL');
          await gone;
        },
      };
    }
    if (exited) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer PING on port ${listenOn}; is it installed? (bash test/support/system-deps.sh checks, and installs it as root)`);
}
