/**
 * What telemetry keeps about one observed logical call: made by the call layer
 * (call-telemetry.ts) when someone observes, carried to every attempt in the call's
 * `attributes` (core/call-context.ts), so the attempt layer (attempt-telemetry.ts) finds it
 * with one property read and an unobserved call, whose attributes are the shared empty
 * object, finds nothing. It publishes the call's channel messages, holds its span, and
 * records its metrics when the call ends.
 */
import { type Context, context, type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Call } from '../core/call-context.ts';
import type { Clock } from '../core/clock.ts';
import { isMeshError } from '../core/errors.ts';
import { outcomeOfError } from '../core/outcome.ts';
import type { MeshRequest, MeshResponse } from '../core/service.ts';
import type { LayerEnv } from '../core/layer-env.ts';
import { type CallEndMessage, type CallStartMessage, callEndChannel, callStartChannel } from './channels.ts';
import { otel } from './otel-state.ts';
import { callContext, startSpan } from './otel-tracing.ts';
import type { BreakerView } from './breaker-view.ts';
import type { MetricSeries } from './metric-series.ts';
import type { CallSpanShapes } from './span-shapes.ts';

export const CALL_RECORD = Symbol.for('meshlet.telemetry.call');

export function recordOf(call: Call): CallRecord | undefined {
  return (call.attributes as Readonly<Record<symbol, unknown>>)[CALL_RECORD] as CallRecord | undefined;
}

export class CallRecord {
  /** The mesh's id (mesh-id.ts), on every message of the call and its attempts. */
  readonly mesh: number;
  readonly service: string;
  readonly route: string | undefined;
  /** The route target's subset (the one intended: a failover may serve the call from another). */
  readonly subset: string | undefined;
  readonly method: string;
  readonly startedAt: number;
  readonly clock: Clock;
  /** Attempts that reached the transport so far (attempt-telemetry.ts counts them). */
  attempts = 0;
  /** The logical (INTERNAL) span; undefined without a tracer provider. */
  readonly span: Span | undefined;
  /** The call's context: its span's (attempt spans start under it) and its record's (call-span.ts). */
  readonly context: Context | undefined;

  /** The stack's metric attribute sets (metric-series.ts). */
  readonly series: MetricSeries;
  readonly #breaker: BreakerView | undefined;

  constructor(mesh: number, request: MeshRequest, call: Call, route: string | undefined, subset: string | undefined, env: LayerEnv, breaker: BreakerView | undefined, series: MetricSeries, shapes: CallSpanShapes) {
    this.mesh = mesh;
    this.service = call.service;
    this.subset = subset;
    this.#breaker = breaker;
    this.series = series;
    this.route = route;
    this.method = request.method;
    this.startedAt = call.startedAt;
    this.clock = env.clock;
    if (callStartChannel.hasSubscribers) callStartChannel.publish(this.#startMessage());
    if (otel.tracing) {
      const shape = shapes.of(this.method);
      const parent = context.active();
      this.span = startSpan(shape.name, SpanKind.INTERNAL, shape.attributes, parent);
      this.context = callContext(parent, this.span, this);
    } else {
      this.span = undefined;
      this.context = undefined;
    }
  }

  /** The service's breaker state now (`closed`, `open`, `half-open`); undefined without a breaker. */
  breakerState(): string | undefined {
    return this.#breaker?.state;
  }

  #startMessage(): CallStartMessage {
    return { mesh: this.mesh, service: this.service, route: this.route, method: this.method, startedAt: this.startedAt };
  }

  /** The call is over: its response head arrived (`response`) or it failed (`error`). */
  end(response: MeshResponse | undefined, error: unknown, env: LayerEnv): void {
    const durationMs = this.clock.now() - this.startedAt;
    const statusCode = response?.statusCode;
    const outcome = response !== undefined ? env.classifier.classify(response, undefined).kind : outcomeOfError(error).kind;
    const errorCode = response === undefined ? errorCodeOf(error) : undefined;
    if (callEndChannel.hasSubscribers) {
      const message: CallEndMessage = { ...this.#startMessage(), durationMs, statusCode, outcome, errorCode, attempts: this.attempts };
      callEndChannel.publish(message);
    }
    const span = this.span;
    if (span !== undefined) {
      span.setAttribute('meshlet.attempts', this.attempts);
      if (statusCode !== undefined) span.setAttribute('http.response.status_code', statusCode);
      const shed = shedReason(errorCode);
      if (shed !== undefined) span.addEvent('meshlet.shed', { 'meshlet.service': this.service, 'meshlet.shed.reason': shed });
      if (outcome === 'failure') {
        const errorType = errorCode ?? String(statusCode);
        span.setAttribute('error.type', errorType);
        span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
      }
      span.end();
    }
    const instruments = otel.instruments;
    if (instruments !== undefined) {
      const series = this.series.call(instruments.callCounts, statusCode, outcome);
      series.count++;
      instruments.callDuration.record(durationMs / 1000, series.attributes);
    }
  }
}

/** The `shed` event's reason for a call a limit refused (its refusal is its end); undefined for any other end. */
function shedReason(errorCode: string | undefined): string | undefined {
  return errorCode === 'MESH_RATE_LIMITED' ? 'rate-limited' : errorCode === 'MESH_CONCURRENCY_LIMIT' ? 'concurrency-limit' : undefined;
}

/** A low-cardinality name for a failure: the MeshError code, a transport failure kind, else the error's name. */
export function errorCodeOf(error: unknown): string | undefined {
  if (error === undefined) return undefined;
  if (isMeshError(error)) return error.code;
  const kind = (error as { kind?: unknown }).kind;
  if (typeof kind === 'string') return kind;
  return error instanceof Error ? error.name : typeof error;
}
