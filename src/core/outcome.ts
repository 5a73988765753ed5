/**
 * What one attempt's result means, said once, in terms every layer shares (linkerd2-proxy's
 * response classes). The protocol's classifier computes it when the attempt ends (HTTP:
 * `src/transport/http/classifier.ts`; gRPC will have its own), the transport records it on the
 * attempt's context, and retries, hedging, the breaker, the balancer's load metric and outlier
 * detection, the concurrency limiter and telemetry read that one verdict instead of each
 * deciding "was that a failure?" on its own.
 *
 * Outcomes are shared immutable values (one per status code, per transport failure kind), so
 * classifying allocates nothing on the hot path.
 */
import { isCallerAbort, isMeshError, TransportError } from './errors.ts';

/** What a retry policy's `on` list names: a transport failure kind or a status code. */
export type RetryCondition = 'connect-error' | 'reset' | 'timeout' | `${number}`;

/**
 * - `success`: the dependency did its job (a 4xx is the caller's business, not a sick server).
 * - `failure`: counts against the endpoint and the service.
 * - `not-the-dependency`: says nothing about its health — the caller aborted, a hedge won,
 *   admission refused, the mesh closed, the call was malformed.
 */
export type OutcomeKind = 'success' | 'failure' | 'not-the-dependency';

export type BlamelessReason = 'caller-aborted' | 'superseded' | 'refused' | 'closed' | 'bad-request';

export interface Outcome {
  readonly kind: OutcomeKind;
  /** The retry condition the result matches (`'503'`, `'reset'`), undefined when none does. */
  readonly condition: RetryCondition | undefined;
  /** False only when the request provably never left this process: a non-idempotent call may be resent then. */
  readonly maybeSent: boolean;
  /** Why it is not the dependency's fault (kind `not-the-dependency` only). */
  readonly reason: BlamelessReason | undefined;
}

function outcome(kind: OutcomeKind, condition: RetryCondition | undefined, maybeSent: boolean, reason?: BlamelessReason): Outcome {
  return Object.freeze({ kind, condition, maybeSent, reason });
}

export const SUCCESS: Outcome = outcome('success', undefined, true);
const UNCLASSIFIED_FAILURE: Outcome = outcome('failure', undefined, true);
const BLAMELESS: Readonly<Record<BlamelessReason, Outcome>> = {
  'caller-aborted': outcome('not-the-dependency', undefined, true, 'caller-aborted'),
  superseded: outcome('not-the-dependency', undefined, true, 'superseded'),
  refused: outcome('not-the-dependency', undefined, false, 'refused'),
  closed: outcome('not-the-dependency', undefined, false, 'closed'),
  'bad-request': outcome('not-the-dependency', undefined, false, 'bad-request'),
};

/** Transport failures by kind and whether the request may have left: 'closed' before sending retries as a connect error. */
const TRANSPORT: ReadonlyMap<string, Outcome> = new Map([
  ['connect-error false', outcome('failure', 'connect-error', false)],
  ['connect-error true', outcome('failure', 'connect-error', true)],
  ['reset false', outcome('failure', 'reset', false)],
  ['reset true', outcome('failure', 'reset', true)],
  ['timeout false', outcome('failure', 'timeout', false)],
  ['timeout true', outcome('failure', 'timeout', true)],
  ['closed false', outcome('failure', 'connect-error', false)],
  ['closed true', outcome('failure', 'connect-error', true)],
  ['protocol false', outcome('failure', undefined, false)],
  ['protocol true', outcome('failure', undefined, true)],
]);

/** MeshErrors that are never the dependency's fault, by code. */
const BLAMELESS_CODES: Readonly<Record<string, BlamelessReason>> = {
  MESH_RATE_LIMITED: 'refused',
  MESH_CONCURRENCY_LIMIT: 'refused',
  MESH_CLOSED: 'closed',
  MESH_BAD_REQUEST: 'bad-request',
};

/**
 * The outcome of an attempt that failed with `error`, whatever the protocol: a TransportError
 * by its kind; a MeshError by its code (a caller's abort and a lost hedge are blameless; a
 * deadline, no endpoints or an open circuit are failures nothing may retry); anything else (a
 * bug) a failure that may have been sent.
 */
export function outcomeOfError(error: unknown): Outcome {
  if (error instanceof TransportError) return TRANSPORT.get(`${error.kind} ${error.maybeSent}`) ?? UNCLASSIFIED_FAILURE;
  if (isMeshError(error)) {
    if (error.code === 'MESH_ABORTED') return BLAMELESS[isCallerAbort(error) ? 'caller-aborted' : 'superseded'];
    const reason = BLAMELESS_CODES[error.code];
    if (reason !== undefined) return BLAMELESS[reason];
  }
  return UNCLASSIFIED_FAILURE;
}

/** True when the outcome counts against the endpoint and the service. */
export function isFailureOutcome(outcome: Outcome): boolean {
  return outcome.kind === 'failure';
}

/**
 * Turns an attempt's result into its Outcome: one per protocol (`src/transport/<protocol>`).
 * The transport calls it once as each attempt ends; layers above that need an outcome of a
 * result they did not see end (a synthetic response) ask the same classifier.
 */
export interface Classifier<Res> {
  classify(response: Res | undefined, error: unknown): Outcome;
}
