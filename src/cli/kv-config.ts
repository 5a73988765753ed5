/**
 * The config under a KV prefix, read as every mesh reads it: the entries of
 * `<prefix>/defaults` and `<prefix>/services/<name>` assembled into one document by the one
 * layout (src/control/consul-layout.ts), then checked as a mesh checks a snapshot, each issue
 * naming its key (`meshlet/services/payments: retry.attempts`).
 */
import type { KvEntry } from '../consul/client.ts';
import { documentFromEntries, type LayoutEntry, listPrefix, locateIssues } from '../control/consul-layout.ts';
import { isMeshError } from '../core/errors.ts';
import { type CheckedConfig, checkConfig } from './check-config.ts';
import type { ConsulTarget } from './consul-target.ts';
import { CliFailure, EXIT } from './io.ts';

/** Every entry under the prefix, with the ModifyIndex a cas write needs. */
export async function readEntries(target: ConsulTarget): Promise<KvEntry[]> {
  return (await readKv(target)).entries;
}

/** The entries and the agent's default ACL policy (an empty read under `deny` without a token may be ACL filtering). */
export async function readKv(target: ConsulTarget): Promise<{ entries: KvEntry[]; defaultAclPolicy: 'allow' | 'deny' | undefined }> {
  try {
    const result = await target.client.kvList(listPrefix(target.prefix));
    return { entries: result.value, defaultAclPolicy: result.defaultAclPolicy };
  } catch (error) {
    throw consulFailure(error);
  }
}

export interface AssembledConfig {
  readonly document: Record<string, unknown>;
  readonly checked: CheckedConfig;
}

/** The document the entries make and its check; throws the mesh's MESH_CONFIG_INVALID, issues located by key. */
export async function assemble(prefix: string, entries: readonly LayoutEntry[]): Promise<AssembledConfig> {
  const { document, keyOf } = await documentFromEntries(prefix, entries);
  try {
    return { document, checked: checkConfig(document) };
  } catch (error) {
    throw isMeshError(error) ? locateIssues(error, keyOf) : error;
  }
}

/** A Consul failure as the CLI ends with it (the client's message already says what to do, without the token). */
export function consulFailure(error: unknown): unknown {
  if (isMeshError(error) && error.code === 'MESH_CONSUL_FAILED') return new CliFailure(EXIT.consul, error.message);
  return error;
}
