/**
 * Consul's KV table (KVSTATE): entries with Create/Modify/Lock indexes, tombstones for deleted
 * keys, and the index rules a blocking client sees:
 * - a key's index is its ModifyIndex; a missing key's index is the table index (so a watch on a
 *   key that does not exist yet wakes when it is created);
 * - a list's index is the highest ModifyIndex or tombstone under the prefix, so deleting the
 *   newest key does not make the index slide backwards;
 * - writing an identical entry changes nothing (no index moves).
 */
import { type RaftLog, restoredIndex } from './raft-log.ts';

export interface KvEntry {
  readonly key: string;
  readonly value: Buffer | null;
  readonly flags: number;
  readonly lockIndex: number;
  readonly createIndex: number;
  readonly modifyIndex: number;
}

export class KvStore {
  readonly #raft: RaftLog;
  #entries = new Map<string, KvEntry>();
  #tombstones = new Map<string, number>();
  #tableIndex = 0;

  constructor(raft: RaftLog) {
    this.#raft = raft;
  }

  get(key: string): KvEntry | undefined {
    return this.#entries.get(key);
  }

  /** Entries whose key starts with `prefix`, sorted by key as Consul's radix tree returns them. */
  list(prefix: string): KvEntry[] {
    return [...this.#entries.values()].filter((e) => e.key.startsWith(prefix)).sort((a, b) => compare(a.key, b.key));
  }

  /** The table-wide KV index, at least 1 (KVRPC forces 0 to 1). */
  tableIndex(): number {
    return Math.max(1, this.#tableIndex);
  }

  /** Index of a single-key read. */
  keyIndex(key: string): number {
    return this.#entries.get(key)?.modifyIndex ?? this.tableIndex();
  }

  /** Index of a recursive or keys read: max of entries and tombstones under the prefix (KVSTATE `kvsListTxn`). */
  listIndex(prefix: string): number {
    let max = 0;
    for (const entry of this.#entries.values()) if (entry.key.startsWith(prefix)) max = Math.max(max, entry.modifyIndex);
    for (const [key, index] of this.#tombstones) if (key.startsWith(prefix)) max = Math.max(max, index);
    return max === 0 ? this.tableIndex() : max;
  }

  /** A plain set, or with `cas` a check-and-set (0 = only if absent, N = only if ModifyIndex is N). */
  put(key: string, value: Buffer | null, flags: number, cas?: number): boolean {
    return this.#raft.write((index) => {
      const existing = this.#entries.get(key);
      if (cas !== undefined) {
        const holds = cas === 0 ? existing === undefined : existing?.modifyIndex === cas;
        if (!holds) return { changed: false, result: false };
      }
      if (existing !== undefined && existing.flags === flags && sameBytes(existing.value, value)) {
        return { changed: false, result: true };
      }
      this.#entries.set(key, {
        key,
        value,
        flags,
        lockIndex: existing?.lockIndex ?? 0,
        createIndex: existing?.createIndex ?? index,
        modifyIndex: index,
      });
      this.#tableIndex = index;
      return { changed: true, result: true };
    });
  }

  /** Deletes one key; with `cas`, only when its ModifyIndex matches (a missing key counts as deleted: `true`). */
  delete(key: string, cas?: number): boolean {
    return this.#raft.write((index) => {
      const existing = this.#entries.get(key);
      if (existing === undefined) return { changed: false, result: true };
      if (cas !== undefined && existing.modifyIndex !== cas) return { changed: false, result: false };
      this.#bury([key], index);
      return { changed: true, result: true };
    });
  }

  /** Deletes every key under `prefix` (the empty prefix is everything). */
  deleteTree(prefix: string): void {
    this.#raft.write((index) => {
      const keys = this.list(prefix).map((e) => e.key);
      if (keys.length === 0) return { changed: false, result: undefined };
      this.#bury(keys, index);
      return { changed: true, result: undefined };
    });
  }

  /** Snapshot restore: every index goes backwards and tombstones are gone (a snapshot carries none). */
  restore(): void {
    const lowered = new Map<string, KvEntry>();
    for (const [key, e] of this.#entries) {
      lowered.set(key, { ...e, createIndex: restoredIndex(e.createIndex), modifyIndex: restoredIndex(e.modifyIndex) });
    }
    this.#entries = lowered;
    this.#tombstones = new Map();
    this.#tableIndex = restoredIndex(this.#tableIndex);
  }

  #bury(keys: string[], index: number): void {
    for (const key of keys) {
      this.#entries.delete(key);
      this.#tombstones.set(key, index);
    }
    this.#tableIndex = index;
  }
}

/** Byte-wise order, as Go compares strings. */
function compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  if (a === null || b === null) return a === b;
  return a.equals(b);
}
