/**
 * The one place that decides what an HTTP attempt's result means. Retries, the breaker,
 * outlier ejection, the EWMA load metric and telemetry all ask here, so "was that a
 * failure?" has a single answer (linkerd2-proxy's response classifiers).
 */
import { TransportError } from '../../core/errors.ts';
import type { RetryCondition } from '../../config/policy.ts';

/**
 * True when the result counts against the endpoint and the service: a transport failure or
 * a 5xx. 4xx (429 included) is the caller's or a deliberate refusal, not a sick server.
 */
export function isFailure(statusCode: number | undefined, error: unknown): boolean {
  if (error !== undefined) return true;
  return statusCode !== undefined && statusCode >= 500;
}

const STATUS_CONDITIONS = new Map<number, RetryCondition>();
function statusCondition(statusCode: number): RetryCondition {
  let condition = STATUS_CONDITIONS.get(statusCode);
  if (condition === undefined) {
    condition = String(statusCode) as RetryCondition;
    STATUS_CONDITIONS.set(statusCode, condition);
  }
  return condition;
}

/**
 * The retry condition a result matches: the transport failure kind for an error
 * (`connect-error`, `reset`, `timeout`), the status code as a string for a response
 * (`'503'`), undefined for a success or an error that is not about the network (a bug, an
 * abort by the caller).
 */
export function retryCondition(statusCode: number | undefined, error: unknown): RetryCondition | undefined {
  if (error !== undefined) {
    if (error instanceof TransportError) {
      if (error.kind === 'connect-error' || error.kind === 'reset' || error.kind === 'timeout') return error.kind;
      if (error.kind === 'closed') return 'connect-error';
    }
    return undefined;
  }
  if (statusCode === undefined || statusCode < 400) return undefined;
  return statusCondition(statusCode);
}

/**
 * Whether the request may have reached the server. A non-idempotent call is resent only
 * when this is false (DESIGN §5): connect refused, DNS failure, pool closed before write.
 */
export function mayHaveBeenSent(error: unknown): boolean {
  return !(error instanceof TransportError) || error.maybeSent;
}
