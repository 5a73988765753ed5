/**
 * The inbound request's trace context, so meshlet's spans for the calls its handler makes are
 * children of the caller's trace (A → B → C keeps one trace id). Read through the application's
 * OpenTelemetry propagator (W3C traceparent/tracestate by default); with no SDK installed the
 * API's no-op propagator hands back the active context unchanged, at near-zero cost.
 *
 * NOTE: when an HTTP server instrumentation (instrumentation-http) already made a span for this
 * request, that span is kept: it is the caller's child, and meshlet's calls belong under it.
 * Extracting again would make them its siblings. Undefined when there is nothing to enter
 * (no SDK, no traceparent, or that span): the request then runs in the context it came in.
 */
import { type Context, context, propagation, trace } from '@opentelemetry/api';
import type { InboundHeaders } from './deadline-headers.ts';

export function inboundTraceContext(headers: InboundHeaders): Context | undefined {
  const active = context.active();
  if (trace.getSpan(active) !== undefined) return undefined;
  const extracted = propagation.extract(active, headers);
  return extracted === active ? undefined : extracted;
}
