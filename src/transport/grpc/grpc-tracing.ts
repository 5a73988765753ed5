/**
 * Tracing for gRPC calls, on `@opentelemetry/api` alone and the telemetry side's shared state
 * (src/telemetry/otel-state.ts, otel-tracing.ts): one CLIENT span per logical call (all its
 * attempts inside), its `traceparent`/`tracestate` in the call's metadata, so the server's span
 * joins the caller's trace. Nothing is made while no SDK is registered: one field read.
 *
 * Names: the span is `{rpc.service}/{rpc.method}` (the RPC semantic conventions), with the
 * attributes `@opentelemetry/instrumentation-grpc` emits today — `rpc.system` 'grpc',
 * `rpc.service`, `rpc.method`, `rpc.grpc.status_code` — rather than the newer
 * `rpc.system.name` / `rpc.response.status_code` set, so dashboards built on that
 * instrumentation read meshlet's spans alike; plus `meshlet.service`.
 *
 * NOTE: beside instrumentation-grpc. It starts its CLIENT span when the client method is
 * called, before any interceptor runs, and injects its own `traceparent`; a second span of
 * meshlet's would double every call. So when the active span is that instrumentation's,
 * meshlet enriches it (`meshlet.service`) and makes none: one CLIENT span per call either way.
 */
import { context, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Metadata } from '@grpc/grpc-js';
import { otel } from '../../telemetry/otel-state.ts';
import { propagationHeaders, SpanKind, startSpan } from '../../telemetry/otel-tracing.ts';

const INSTRUMENTATION_GRPC = '@opentelemetry/instrumentation-grpc';

export interface CallSpan {
  end(code: number, details: string): void;
}

const NOTHING_TO_END: CallSpan = { end() {} };

function isInstrumentationGrpcSpan(span: Span): boolean {
  const scope = (span as { instrumentationScope?: { name?: string }; instrumentationLibrary?: { name?: string } });
  return (scope.instrumentationScope ?? scope.instrumentationLibrary)?.name === INSTRUMENTATION_GRPC;
}

/**
 * Starts the call's span and returns it with the metadata to send (a copy with the trace
 * context: the caller's own object may be reused for other calls); undefined when not tracing.
 */
export function traceCall(service: string, path: string, metadata: Metadata): { span: CallSpan; metadata: Metadata } | undefined {
  if (!otel.tracing) return undefined;
  const active = context.active();
  const current = trace.getSpan(active);
  if (current !== undefined && isInstrumentationGrpcSpan(current)) {
    current.setAttribute('meshlet.service', service);
    return { span: NOTHING_TO_END, metadata };
  }
  const slash = path.lastIndexOf('/');
  const rpcService = path.slice(1, slash);
  const rpcMethod = path.slice(slash + 1);
  const span = startSpan(`${rpcService}/${rpcMethod}`, SpanKind.CLIENT, { 'rpc.system': 'grpc', 'rpc.service': rpcService, 'rpc.method': rpcMethod, 'meshlet.service': service }, active);
  const traced = metadata.clone();
  for (const [key, value] of Object.entries(propagationHeaders(trace.setSpan(active, span)))) traced.set(key, value);
  return {
    metadata: traced,
    span: {
      end(code, details) {
        span.setAttribute('rpc.grpc.status_code', code);
        if (code !== 0) span.setStatus({ code: SpanStatusCode.ERROR, message: details });
        span.end();
      },
    },
  };
}
