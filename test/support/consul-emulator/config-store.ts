/**
 * Config entries (CFGDOC, CFGGO): one entry per kind and name, stored as the JSON the client
 * sent plus Consul's CreateIndex/ModifyIndex. The read index of an entry is its ModifyIndex;
 * of a missing entry or a kind listing, the highest index any entry of the table used, so a
 * watch on a router that does not exist yet wakes when one is written.
 */
import { type RaftLog, restoredIndex } from './raft-log.ts';

export interface ConfigEntry {
  readonly body: Readonly<Record<string, unknown>>;
  readonly createIndex: number;
  readonly modifyIndex: number;
}

/** The kinds Consul accepts (APICE `makeConfigEntry`). */
export const CONFIG_KINDS: readonly string[] = [
  'service-defaults',
  'proxy-defaults',
  'service-router',
  'service-splitter',
  'service-resolver',
  'ingress-gateway',
  'terminating-gateway',
  'service-intentions',
  'mesh',
  'exported-services',
  'sameness-group',
  'api-gateway',
  'bound-api-gateway',
  'http-route',
  'tcp-route',
  'inline-certificate',
  'file-system-certificate',
  'jwt-provider',
  'control-plane-request-limit',
];

export class ConfigStore {
  readonly #raft: RaftLog;
  #entries = new Map<string, ConfigEntry>();
  #tableIndex = 0;

  constructor(raft: RaftLog) {
    this.#raft = raft;
  }

  get(kind: string, name: string): ConfigEntry | undefined {
    return this.#entries.get(`${kind}/${name}`);
  }

  list(kind: string): ConfigEntry[] {
    return [...this.#entries.entries()]
      .filter(([key]) => key.startsWith(`${kind}/`))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, entry]) => entry);
  }

  tableIndex(): number {
    return Math.max(1, this.#tableIndex);
  }

  /** Writes an entry; with `cas` only when its ModifyIndex matches (0 = only when absent). */
  put(kind: string, name: string, body: Record<string, unknown>, cas?: number): boolean {
    return this.#raft.write((index) => {
      const existing = this.get(kind, name);
      if (cas !== undefined && (cas === 0 ? existing !== undefined : existing?.modifyIndex !== cas)) {
        return { changed: false, result: false };
      }
      const { CreateIndex: _c, ModifyIndex: _m, ...fields } = body;
      this.#entries.set(`${kind}/${name}`, { body: fields, createIndex: existing?.createIndex ?? index, modifyIndex: index });
      this.#tableIndex = index;
      return { changed: true, result: true };
    });
  }

  delete(kind: string, name: string, cas?: number): boolean {
    return this.#raft.write((index) => {
      const existing = this.get(kind, name);
      if (cas !== undefined && existing?.modifyIndex !== cas) return { changed: false, result: false };
      if (existing === undefined) return { changed: false, result: true };
      this.#entries.delete(`${kind}/${name}`);
      this.#tableIndex = index;
      return { changed: true, result: true };
    });
  }

  restore(): void {
    this.#entries = new Map(
      [...this.#entries].map(([key, e]) => [key, { ...e, createIndex: restoredIndex(e.createIndex), modifyIndex: restoredIndex(e.modifyIndex) }]),
    );
    this.#tableIndex = restoredIndex(this.#tableIndex);
  }
}

/** An entry as Consul returns it: its fields, then CreateIndex and ModifyIndex. */
export function configEntryJson(entry: ConfigEntry): Record<string, unknown> {
  return { ...entry.body, CreateIndex: entry.createIndex, ModifyIndex: entry.modifyIndex };
}
