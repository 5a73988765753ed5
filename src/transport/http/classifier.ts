/**
 * The HTTP classifier: what an HTTP attempt's result means, as the protocol-neutral Outcome
 * (`src/core/outcome.ts`) every layer reads. A transport failure or a 5xx is a failure; a
 * 4xx (429 included) is the caller's business or a deliberate refusal, not a sick server, but
 * its status is still a retry condition a policy may name. Errors are classified the same way
 * for every protocol (`outcomeOfError`).
 */
import { type Classifier, type Outcome, outcomeOfError, type RetryCondition, SUCCESS } from '../../core/outcome.ts';
import type { MeshResponse } from '../../core/service.ts';

/** One shared Outcome per status code, made on first sight: classifying allocates nothing after. */
const BY_STATUS: Outcome[] = [];

function statusOutcome(statusCode: number): Outcome {
  let outcome = BY_STATUS[statusCode];
  if (outcome === undefined) {
    const condition = String(statusCode) as RetryCondition;
    outcome = Object.freeze({ kind: statusCode >= 500 ? 'failure' : 'success', condition, maybeSent: true, reason: undefined });
    BY_STATUS[statusCode] = outcome;
  }
  return outcome;
}

export function classifyHttp(statusCode: number | undefined, error: unknown): Outcome {
  if (statusCode === undefined) return outcomeOfError(error);
  return statusCode < 400 ? SUCCESS : statusOutcome(statusCode);
}

export const httpClassifier: Classifier<MeshResponse> = {
  classify: (response, error) => classifyHttp(response?.statusCode, error),
};
