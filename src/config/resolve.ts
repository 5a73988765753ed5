/**
 * Resolution: validated documents in, one complete ServicePolicy per service out. Precedence,
 * lowest first: built-in defaults, bootstrap `defaults`, bootstrap `services[name]`, control
 * `defaults`, control `services[name]` (per-call options apply later, in the stack). A service
 * exists when either document names it. Resolution is all or nothing: any issue throws
 * MESH_CONFIG_INVALID and the caller keeps the snapshot it had.
 */
import type { ConfigIssue } from '../core/errors.ts';
import { configInvalid } from './config-error.ts';
import { BUILT_IN } from './defaults.ts';
import { finalizePolicy } from './finalize.ts';
import { applyLevel } from './merge.ts';
import { routeTargetIssues } from './route-checks.ts';
import type { ServicePolicy } from './policy.ts';
import type { MeshConfig } from './schema.ts';
import type { PemReader } from './tls-files.ts';

export interface ResolveInput {
  /** The bootstrap config given to createMesh (validated). */
  readonly bootstrap?: MeshConfig | undefined;
  /** The control store's document (validated); undefined when there is none yet. */
  readonly control?: MeshConfig | undefined;
  /** Where relative TLS file paths start; default: the process's working directory. */
  readonly baseDir?: string;
  /** Reads a PEM file (tests); default: the file system. */
  readonly readPem?: PemReader;
}

export interface ResolvedConfig {
  /** Every service, in name order; each policy is frozen. */
  readonly services: ReadonlyMap<string, ServicePolicy>;
}

export function resolveConfig(input: ResolveInput): ResolvedConfig {
  const { bootstrap, control } = input;
  const options = { baseDir: input.baseDir ?? process.cwd(), readPem: input.readPem };
  const names = new Set([...Object.keys(bootstrap?.services ?? {}), ...Object.keys(control?.services ?? {})]);
  const issues: ConfigIssue[] = [];
  const services = new Map<string, ServicePolicy>();
  for (const name of [...names].sort()) {
    let state = applyLevel(BUILT_IN, bootstrap?.defaults);
    state = applyLevel(state, ownEntry(bootstrap?.services, name));
    state = applyLevel(state, control?.defaults);
    state = applyLevel(state, ownEntry(control?.services, name));
    services.set(name, finalizePolicy(name, state, options, issues));
  }
  if (issues.length === 0) issues.push(...routeTargetIssues(services));
  if (issues.length > 0) throw configInvalid(issues, 'The merged mesh config');
  return { services };
}

function ownEntry<T>(record: Readonly<Record<string, T>> | undefined, name: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, name) ? record[name] : undefined;
}
