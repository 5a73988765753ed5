/**
 * A picker is an immutable snapshot of "which endpoints may take calls now", consulted on
 * every attempt (grpc-js's Picker). The endpoint set builds a new one whenever membership,
 * health or the balancer policy changes (create-picker.ts makes it); between rebuilds a pick
 * touches no shared list, so it is O(1) (ring-hash O(log n)), never awaits, and allocates
 * nothing.
 */
import type { MeshRequest } from '../core/service.ts';
import type { LiveEndpoint } from './live-endpoint.ts';

export interface Picker {
  /** Endpoints this snapshot picks from. */
  readonly size: number;
  /** An endpoint for this attempt, not `avoid` when another one exists; undefined only when size is 0. */
  pick(request: MeshRequest, avoid: LiveEndpoint | undefined): LiveEndpoint | undefined;
}
