/**
 * A control store supplies the fleet-wide MeshConfig and tells the mesh when it changes.
 * Stores only fetch and parse; validation and the atomic swap belong to the mesh, so every
 * store gets the same "a bad push leaves the fleet running" behaviour.
 */
import type { MeshError } from '../core/errors.ts';

export interface ControlListener {
  /** A new document (parsed JSON/YAML, not yet validated). */
  snapshot(document: unknown): void;
  /** The store's content could not be parsed (MESH_CONFIG_INVALID); the last good config stays. */
  rejected(error: MeshError): void;
  /** The store could not be read (unreachable, file missing); the last good config stays. */
  unavailable(error: Error): void;
}

export interface ControlStore {
  /** Where the config comes from, for state and events: `static`, `file:/abs/path`, `consul://…`. */
  readonly source: string;
  /** Starts watching; resolves after the first document (or failure) was reported. */
  watch(listener: ControlListener): Promise<void>;
  close(): Promise<void>;
}
