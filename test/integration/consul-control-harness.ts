/**
 * What the Consul KV control tests share: a backend that says which port answered (and can
 * be slow on /slow?ms=N), meshes whose control is a KV prefix of the test's Consul (the
 * emulator, or a real agent with CONSUL_HTTP_ADDR), waits that poll with a bound, and
 * traffic loops that keep every outcome.
 */
import type { Mesh, MeshEvents, MeshOptions } from '../../src/index.ts';
import { isMeshError } from '../../src/index.ts';
import type { TestConsul } from '../support/consul.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';

export { eventually, sleep, traffic } from '../support/waits.ts';

let prefixes = 0;

/** A KV prefix of its own per test: a real agent is shared between runs. */
export function uniquePrefix(): string {
  return `meshlet-test-${process.pid}-${++prefixes}`;
}

export function controlUrl(consul: TestConsul, prefix: string): string {
  return `consul://${new URL(consul.url).host}/${prefix}`;
}

/** The mesh options for a control store at `prefix` (the token of a real agent included). */
export function consulMeshOptions(consul: TestConsul, prefix: string, extra: Partial<MeshOptions> = {}): MeshOptions {
  return {
    service: 'web',
    control: controlUrl(consul, prefix),
    ...(consul.token === undefined ? {} : { consul: { token: consul.token } }),
    ...extra,
  };
}

/** Answers `{ port }`; `/slow?ms=N` answers after N ms. */
export async function portBackend(): Promise<Backend> {
  let backend: Backend;
  backend = await startBackend((req, res) => {
    const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0);
    setTimeout(() => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ port: backend.port }));
    }, ms);
  });
  return backend;
}

/** The port that answered, or the MeshError code / status of a failure. */
export async function outcome(mesh: Mesh, service: string, path = '/'): Promise<number | string> {
  try {
    const res = await mesh.client(service).request({ path });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return `status ${res.statusCode}`;
    }
    return ((await res.body.json()) as { port: number }).port;
  } catch (error) {
    return isMeshError(error) ? error.code : String(error);
  }
}

/** The next `name` event of the mesh that satisfies `accept`. */
export function nextEvent<K extends keyof MeshEvents>(mesh: Mesh, name: K, accept: (event: MeshEvents[K]) => boolean = () => true, timeoutMs = 5000): Promise<MeshEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      dispose();
      reject(new Error(`no matching '${name}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    const dispose = mesh.on(name, (event) => {
      if (!accept(event)) return;
      clearTimeout(timer);
      dispose();
      resolve(event);
    });
  });
}

export interface ControlState {
  readonly version: number;
  readonly source: string | null;
  readonly rejections: number;
  readonly lastRejected: { source: string; issues: { path: string; message: string }[] } | null;
  readonly control: {
    readonly source: string;
    readonly status: 'static' | 'ok' | 'unavailable';
    readonly lastError: string | null;
    readonly cache: { readFrom: string; savedAt: string; ageMs: number } | null;
  };
}

export function configState(mesh: Mesh): ControlState {
  return (mesh.state() as { config: ControlState }).config;
}
