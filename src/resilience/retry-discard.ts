/**
 * A response that a retry replaces, or a hedge loser's, must have its body drained or
 * destroyed: an unread body pins its keep-alive socket, and enough of them starve the pool.
 * Small bodies are read to the end so the connection is reused; a large one (over the limit)
 * is destroyed, which costs a reconnect but not a wait.
 */
import type { MeshResponse } from '../core/service.ts';

const DRAIN_LIMIT = 64 * 1024;

function ignore(): void {}

/** Never rejects: a body that fails while being thrown away has nothing left to tell anyone. */
export function discardResponse(response: MeshResponse): Promise<void> {
  return response.body.dump({ limit: DRAIN_LIMIT }).then(ignore, ignore);
}
