/**
 * A control store supplies the fleet-wide MeshConfig and tells the mesh when it changes.
 * Stores only fetch and parse; validation and the atomic swap belong to the mesh, so every
 * store gets the same "a bad push leaves the fleet running" behaviour.
 */
import type { MeshError } from '../core/errors.ts';

export interface ControlListener {
  /**
   * A new document (parsed JSON/YAML, not yet validated). `keyOf`, from a store whose document
   * is assembled from several places (Consul KV keys), says where a document path lives, so a
   * rejection names the key: `services.payments.retry` → `meshlet/services/payments: retry`.
   */
  snapshot(document: unknown, keyOf?: (path: string) => string): void;
  /** The store's content could not be parsed (MESH_CONFIG_INVALID); the last good config stays. */
  rejected(error: MeshError): void;
  /** The store could not be read (unreachable, file missing); the last good config stays. */
  unavailable(error: Error): void;
  /** The store answers again after being unavailable (a changed document, if any, follows as a snapshot). */
  available?(): void;
}

export interface ControlStore {
  /** Where the config comes from, for state and events: `static`, `file:/abs/path`, `consul://…`. */
  readonly source: string;
  /** Starts watching; resolves after the first document (or failure) was reported. */
  watch(listener: ControlListener): Promise<void>;
  close(): Promise<void>;
}
