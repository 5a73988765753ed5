/**
 * The span side of telemetry, on `@opentelemetry/api` alone: the attribute names meshlet
 * uses (the stable HTTP client semantic conventions plus its own `meshlet.*`), W3C context
 * injection per attempt, and the context an attempt is dispatched under.
 *
 * NOTE: living beside `@opentelemetry/instrumentation-undici`. meshlet owns the attempt
 * (CLIENT) spans and dispatches each attempt under the SDK's suppress-tracing flag, so
 * undici's instrumentation, which starts its span in the context active when undici creates
 * the request, gets a non-recording span from the SDK's tracer and its propagator injects no
 * second `traceparent`. The flag is the SDK's own context key, recreated here with the api
 * (`createContextKey` is `Symbol.for(description)`, so the keys are the same symbol; the
 * description is @opentelemetry/core's `suppressTracing`). undici's instrumentation still
 * records its own `http.client.request.duration` for a suppressed request; give it
 * `ignoreRequestHook: isMeshletAttempt` and it leaves meshlet's attempts alone entirely.
 */
import { type Context, context, createContextKey, propagation, ROOT_CONTEXT, type Span, SpanKind } from '@opentelemetry/api';
import { otel } from './otel-state.ts';

/** @opentelemetry/api's span key (trace/context-utils.ts), the same symbol. */
const SPAN_KEY = createContextKey('OpenTelemetry Context Key SPAN');
/** @opentelemetry/core's SUPPRESS_TRACING_KEY (suppress-tracing.ts), the same symbol. */
const SUPPRESS_TRACING_KEY = createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING');
/** Set while meshlet dispatches an attempt, for isMeshletAttempt. */
const MESHLET_ATTEMPT_KEY = createContextKey('meshlet attempt');

/** True inside meshlet's dispatch of an attempt: pass it as instrumentation-undici's `ignoreRequestHook`. */
export function isMeshletAttempt(): boolean {
  return context.active().getValue(MESHLET_ATTEMPT_KEY) === true;
}

/**
 * The context every attempt is sent under: tracing suppressed, marked as meshlet's. One
 * context for all, made once: under suppression the SDK's tracer makes no span and the W3C
 * propagators inject nothing whatever span the context holds, so the attempt's own span
 * need not be in it (meshlet injected its headers already), and two context copies per
 * attempt are saved.
 */
export const DISPATCH_CONTEXT: Context = ROOT_CONTEXT.setValue(SUPPRESS_TRACING_KEY, true).setValue(MESHLET_ATTEMPT_KEY, true);

/** The W3C headers (traceparent, tracestate, baggage: whatever the global propagator writes) for a span's context. */
export function propagationHeaders(spanContext: Context): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(spanContext, carrier);
  return carrier;
}

/**
 * Writes the W3C headers of `span` (a child of `parent`) into `carrier`, what
 * `propagationHeaders(trace.setSpan(parent, span))` writes, without making that context:
 * `setSpan` copies the parent's map of values (~0.25 µs and two objects per attempt) only for
 * the propagator to read the span back out of it.
 */
export function injectSpan(parent: Context, span: Span, carrier: Record<string, string>): void {
  propagation.inject(new SpanContextView(parent, span, undefined), carrier);
}

/** The key under which a call's context (`callContext`) holds its telemetry record. */
const CALL_KEY = createContextKey('meshlet call record');

/**
 * `parent` with `span` as its span and `record` as its meshlet call: what a logical call's
 * attempts start their spans under, and what the call runs in when it must (call-telemetry.ts).
 */
export function callContext(parent: Context, span: Span, record: object): Context {
  return new SpanContextView(parent, span, record);
}

/** The meshlet call whose context is active, if one is (a span event's fallback: event-bridge.ts). */
export function activeCallRecord(): unknown {
  return context.active().getValue(CALL_KEY);
}

/**
 * A context that answers the span key with `span` (and the call key with `record`) and every
 * other key from `parent`, made without copying the parent's values as `setValue` does.
 * Deriving a context from it (`setValue`, `deleteValue`) gives a real one with both.
 */
class SpanContextView implements Context {
  readonly #parent: Context;
  readonly #span: Span;
  readonly #record: object | undefined;

  constructor(parent: Context, span: Span, record: object | undefined) {
    this.#parent = parent;
    this.#span = span;
    this.#record = record;
  }

  getValue(key: symbol): unknown {
    if (key === SPAN_KEY) return this.#span;
    if (key === CALL_KEY && this.#record !== undefined) return this.#record;
    return this.#parent.getValue(key);
  }

  setValue(key: symbol, value: unknown): Context {
    return this.#real().setValue(key, value);
  }

  deleteValue(key: symbol): Context {
    return this.#real().deleteValue(key);
  }

  #real(): Context {
    const withSpan = this.#parent.setValue(SPAN_KEY, this.#span);
    return this.#record === undefined ? withSpan : withSpan.setValue(CALL_KEY, this.#record);
  }
}

const KNOWN_METHODS: ReadonlySet<string> = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE', 'QUERY']);

/** The semconv's `http.request.method`: a known method, or `_OTHER` (bounded span names). */
export function semconvMethod(method: string): string {
  return KNOWN_METHODS.has(method) ? method : '_OTHER';
}

export function startSpan(name: string, kind: SpanKind, attributes: Record<string, string | number | boolean>, parent: Context): Span {
  return otel.tracer.startSpan(name, { kind, attributes }, parent);
}

export { SpanKind };
