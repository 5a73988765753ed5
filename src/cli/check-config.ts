/**
 * The check a mesh runs on a control document before it applies it, composed from the same
 * functions mesh.ts calls (validate the whole document, resolve every service's policy, the
 * endpoint limits on the merged policies), so a config the CLI accepts is one a mesh accepts.
 *
 * NOTE: two things only the mesh's host can check. TLS files (`tls.ca`, `cert`, `key`) are
 * paths on each host, read by each mesh at apply time: the CLI checks that cert and key go
 * together, not that the files exist. And each mesh merges the document over its own
 * bootstrap config; the CLI checks the document over the built-in defaults alone.
 */
import { assertEndpointLimits } from '../config/endpoint-limits.ts';
import { resolveConfig } from '../config/resolve.ts';
import type { MeshConfig } from '../config/schema.ts';
import type { PemReader } from '../config/tls-files.ts';
import { validateMeshConfig } from '../config/validate.ts';

/** Stands in for each host's PEM files, which the operator's machine does not have. */
const hostFile: PemReader = () => '-----BEGIN CERTIFICATE-----\n(read on each host)\n-----END CERTIFICATE-----\n';

export interface CheckedConfig {
  readonly config: MeshConfig;
  /** The services it configures, by name. */
  readonly services: readonly string[];
  /** TLS file paths it names, which each mesh reads on its own host. */
  readonly tlsFiles: readonly string[];
}

/** Throws the mesh's MESH_CONFIG_INVALID (every issue with its path) when a mesh would reject it. */
export function checkConfig(document: unknown): CheckedConfig {
  const config = validateMeshConfig(document);
  const policies = resolveConfig({ control: config, readPem: hostFile }).services;
  assertEndpointLimits(policies);
  return { config, services: [...policies.keys()], tlsFiles: tlsFilesOf(config) };
}

function tlsFilesOf(config: MeshConfig): string[] {
  const files = new Set<string>();
  for (const policy of [config.defaults, ...Object.values(config.services ?? {})]) {
    const tls = (policy as { tls?: unknown } | undefined)?.tls;
    if (typeof tls !== 'object' || tls === null) continue;
    for (const field of ['ca', 'cert', 'key'] as const) {
      const file = (tls as Record<string, unknown>)[field];
      if (typeof file === 'string') files.add(file);
    }
  }
  return [...files].sort();
}
