/**
 * What an inbound request answers when its handler fails with a MeshError it did not catch:
 * the downstream's failure in HTTP terms, so a caller up the chain sees a deadline as 504 (and
 * its own meshlet client as a timeout), an unavailable dependency as 503, a dependency that
 * failed on the wire as 502. Mistakes in the service itself (an unknown service name, invalid
 * arguments or config) stay 500. One table serves every adapter.
 *
 * NOTE: the body names the code, not the error's message: messages name endpoints and
 * services (the service's topology), which are for its logs, not for whoever called it.
 */
import { isMeshError, type MeshErrorCode } from '../core/errors.ts';
import { type Refusal, refusal } from './admission.ts';

const STATUS: Partial<Record<MeshErrorCode, number>> = {
  MESH_TIMEOUT: 504,
  MESH_NO_ENDPOINTS: 503,
  MESH_CIRCUIT_OPEN: 503,
  MESH_RATE_LIMITED: 503,
  MESH_CONCURRENCY_LIMIT: 503,
  MESH_CLOSED: 503,
  MESH_ABORTED: 503,
  MESH_UPSTREAM_FAILED: 502,
};

const SAID: Readonly<Record<number, string>> = {
  500: 'the service failed to handle the request',
  502: 'a service this one depends on failed',
  503: 'a service this one depends on is unavailable; retry later',
  504: 'the request ran out of time waiting for a service this one depends on',
};

/** The HTTP status for a MeshError (500 for one that is the service's own mistake); undefined for any other error. */
export function meshErrorStatus(error: unknown): number | undefined {
  if (!isMeshError(error)) return undefined;
  return STATUS[error.code] ?? 500;
}

/** The whole answer for a MeshError: its status and `{ error: code, message }`; undefined for any other error. */
export function meshErrorResponse(error: unknown): Refusal | undefined {
  const status = meshErrorStatus(error);
  if (status === undefined || !isMeshError(error)) return undefined;
  return refusal(status, error.code, SAID[status] ?? SAID[500]!);
}
