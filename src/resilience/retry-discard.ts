/**
 * A response that a retry replaces, or a hedge loser's, must have its body drained or
 * destroyed: an unread body pins its keep-alive socket, and enough of them starve the pool.
 * A small body that arrives promptly is read to the end so the connection is reused; one over
 * the size limit, or still arriving after a short grace, is destroyed, which costs a
 * reconnect but never a wait.
 *
 * NOTE: nobody waits for a discard. A retry that awaited it would wait for a body that
 * trickles (a 503 head in 1 ms, its body over seconds) and spend the call's deadline on a
 * response it has already thrown away.
 */
import type { MeshResponse } from '../core/service.ts';

const DRAIN_LIMIT = 64 * 1024;
/** How long a discarded body may take to finish arriving before it is destroyed. */
const DRAIN_GRACE_MS = 100;

function ignore(): void {}

/** Starts throwing the body away and returns at once; never throws. */
export function discardResponse(response: MeshResponse): void {
  response.body.dump({ limit: DRAIN_LIMIT, signal: AbortSignal.timeout(DRAIN_GRACE_MS) }).then(ignore, ignore);
}
