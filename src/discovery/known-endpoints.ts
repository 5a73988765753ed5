/**
 * Last-known-good endpoint lists, kept across restarts (the mesh's `cacheDir`): a service that
 * restarts while its discovery source is unreachable starts on the instances it last saw
 * rather than on none. Discovery defines what it needs; the mesh keeps the files
 * (src/mesh/endpoint-cache.ts).
 */
import type { EndpointAddress } from '../core/endpoint.ts';

export interface SavedEndpoints {
  readonly endpoints: readonly EndpointAddress[];
  /** Wall-clock time of the save, ms since the epoch (a monotonic clock does not survive a restart). */
  readonly savedAt: number;
}

export interface KnownEndpointsStore {
  /**
   * The list last saved for `service`, if it was saved for the same `question` (what was
   * asked of the source: a list saved for other tags must not stand in for this one).
   */
  read(service: string, question: string): Promise<SavedEndpoints | undefined>;
  /** Saves in the background; never throws (the cache is insurance, not a dependency). */
  write(service: string, question: string, endpoints: readonly EndpointAddress[]): void;
  /** Age of a save, ms (for state()). */
  ageOf(saved: SavedEndpoints): number;
}
