/**
 * gRPC call metrics, on the application's meter (through `@opentelemetry/api` only):
 * `rpc.client.duration`, one per logical call (its attempts, backoff and hedges inside), in
 * milliseconds on the semconv's advised buckets, the RPC naming the spans use
 * (grpc-tracing.ts: instrumentation-grpc's `rpc.system`, `rpc.service`, `rpc.method`,
 * `rpc.grpc.status_code`) plus `meshlet.service`. Labels stay bounded: methods come from the
 * proto, never an endpoint address (as http.client.request.duration, otel-metrics.ts).
 *
 * The histogram is made from the meter provider meshlet's own instruments were made from
 * (telemetry/otel-state.ts) and again when they are remade (a new provider). While no meter
 * provider is registered, a call costs one field read.
 */
import { type Histogram, metrics } from '@opentelemetry/api';
import type { Instruments } from '../../telemetry/otel-metrics.ts';
import { otel } from '../../telemetry/otel-state.ts';
import type { CallSpan } from './grpc-tracing.ts';

/** The semconv's advised boundaries for rpc.client.duration, in milliseconds. */
const BUCKETS_MS = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

let made: { readonly of: Instruments; readonly duration: Histogram } | undefined;

function durationHistogram(instruments: Instruments): Histogram {
  if (made?.of !== instruments) {
    const meter = metrics.getMeterProvider().getMeter('meshlet');
    const duration = meter.createHistogram('rpc.client.duration', { unit: 'ms', description: 'Duration of gRPC client calls (one per logical call).', advice: { explicitBucketBoundaries: BUCKETS_MS } });
    made = { of: instruments, duration };
  }
  return made.duration;
}

/** The call's end, timed: records the duration (and ends `span`, when traced); `span` itself while nothing is metered. */
export function meterCall(service: string, path: string, span: CallSpan | undefined): CallSpan | undefined {
  const instruments = otel.instruments;
  if (instruments === undefined) return span;
  const histogram = durationHistogram(instruments);
  const startedAt = performance.now();
  return {
    end(code, details) {
      span?.end(code, details);
      const slash = path.lastIndexOf('/');
      histogram.record(performance.now() - startedAt, {
        'rpc.system': 'grpc',
        'rpc.service': path.slice(1, slash),
        'rpc.method': path.slice(slash + 1),
        'rpc.grpc.status_code': code,
        'meshlet.service': service,
      });
    },
  };
}
