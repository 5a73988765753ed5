/**
 * Which logical call a mesh event belongs to, so its span event lands on that call's span
 * (event-bridge.ts), without running every call inside its span's context: entering a
 * context per call (`context.with`) copies the async context frame twice, ~1 KB and ~1 µs a
 * call, and nothing but these events read it. Three ways, by what the event's producer knows:
 * - it names the call (`retry`, `budget-exhausted`, `hedge` carry `call`): its record's span;
 * - it fires synchronously while the balancer is told an attempt ended (`eject`, from outlier
 *   detection): the attempt layer marks that call for the duration (`whileEnding`);
 * - neither (`breaker`: opossum changes state in its own promise callbacks): a stack with a
 *   breaker still runs its calls in their context (call-telemetry.ts), and the active
 *   context's call is used. Outside a meshlet call the active span is the application's, so
 *   only a context meshlet made counts; none: the event goes on no span.
 * Shed calls get their span event where the call ends (call-record.ts): the refusal is its end.
 */
import type { Span } from '@opentelemetry/api';
import type { Attempt, AttemptObserver } from '../core/attempt.ts';
import type { Call } from '../core/call-context.ts';
import { type CallRecord, recordOf } from './call-record.ts';
import { activeCallRecord } from './otel-tracing.ts';

/** The call whose attempt's end the balancer is being told of, while it is. */
let ending: CallRecord | undefined;

/** The span of `call` (the event's, when it names one), else of the call being ended or in context. */
export function callSpan(call: Call | undefined): Span | undefined {
  const record = call !== undefined ? recordOf(call) : (ending ?? (activeCallRecord() as CallRecord | undefined));
  return record?.span;
}

/** Tells `observer` that `attempt` ended, with `record` as the call events fired meanwhile belong to. */
export function whileEnding(record: CallRecord, observer: AttemptObserver, attempt: Attempt, error: unknown): void {
  const outer = ending;
  ending = record;
  try {
    observer.attemptEnded(attempt, error);
  } finally {
    ending = outer;
  }
}
