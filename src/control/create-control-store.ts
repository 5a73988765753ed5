/**
 * Turns createMesh's `control` option into a store: nothing (the bootstrap config alone),
 * `consul://host:port/prefix` (Consul KV, watched), `file:<path>` (JSON or YAML, watched), or
 * a ControlStore object (a custom plane).
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveConsulAgent } from '../consul/agent-options.ts';
import type { ConsulClientOptions } from '../consul/client.ts';
import { isConsulControlUrl, parseConsulControlUrl } from '../consul/control-url.ts';
import type { Clock } from '../core/clock.ts';
import { MeshError } from '../core/errors.ts';
import { describeValue } from '../config/describe.ts';
import { formatOfPath } from '../config/parse.ts';
import { ConsulControlStore } from './consul-store.ts';
import type { ControlStore } from './control-store.ts';
import { FileControlStore } from './file-store.ts';
import { StaticControlStore } from './static-store.ts';

export interface CreateControlStoreOptions {
  /** Where a relative `file:` path starts; default: the working directory. */
  readonly baseDir?: string;
  readonly clock?: Clock;
  /**
   * The Consul agent a `consul://` store reads from (the mesh's: its `consul` option, else
   * the control URL's host, else CONSUL_HTTP_ADDR; token and CA from the same places).
   */
  readonly consulAgent?: () => ConsulClientOptions;
}

const FORMS = 'omit it (bootstrap config only), "consul://127.0.0.1:8500/meshlet", "file:./mesh.json" (or .yaml/.yml), or a ControlStore object';

export function createControlStore(control: string | ControlStore | undefined, options: CreateControlStoreOptions = {}): ControlStore {
  if (control === undefined) return new StaticControlStore();
  if (typeof control === 'object' && control !== null) {
    if (typeof control.watch === 'function' && typeof control.close === 'function') return control;
    throw invalid(`control: expected ${FORMS}, got an object without watch() and close()`);
  }
  if (typeof control !== 'string') throw invalid(`control: expected ${FORMS}, got ${describeValue(control)}`);
  if (control === 'static') return new StaticControlStore();
  if (control.startsWith('file:')) {
    const path = filePath(control, options.baseDir ?? process.cwd());
    const format = formatOfPath(path);
    if (format === undefined) throw invalid(`control: ${describeValue(control)} must end in .json, .yaml or .yml so its format is known`);
    return new FileControlStore(path, format, options.clock === undefined ? {} : { clock: options.clock });
  }
  if (isConsulControlUrl(control)) return consulStore(control, options);
  throw invalid(`control: expected ${FORMS}, got ${describeValue(control)}`);
}

function consulStore(control: string, options: CreateControlStoreOptions): ConsulControlStore {
  const { prefix } = parseConsulControlUrl(control);
  if (prefix === '') throw invalid(`control: ${describeValue(control)} needs a KV prefix, e.g. "consul://127.0.0.1:8500/meshlet" (the layout is <prefix>/defaults and <prefix>/services/<name>)`);
  if (prefix.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw invalid(`control: the KV prefix of ${describeValue(control)} has an empty, "." or ".." segment`);
  }
  return new ConsulControlStore(options.consulAgent ?? (() => resolveConsulAgent({ control })!), prefix);
}

function filePath(control: string, baseDir: string): string {
  if (control.startsWith('file://')) {
    try {
      return fileURLToPath(control);
    } catch {
      throw invalid(`control: ${describeValue(control)} is not a valid file URL; use "file:./relative/path.json" or "file:///absolute/path.json"`);
    }
  }
  const raw = control.slice('file:'.length);
  if (raw === '') throw invalid('control: "file:" needs a path, e.g. "file:./mesh.json"');
  return isAbsolute(raw) ? raw : resolve(baseDir, raw);
}

function invalid(message: string): MeshError {
  return new MeshError('MESH_CONFIG_INVALID', message);
}
