/**
 * The OpenTelemetry SDK as an application would run it, for the overhead bench's telemetry
 * rows: every span sampled (the default AlwaysOn sampler) through a BatchSpanProcessor into an
 * exporter that drops the batch (the bench measures meshlet and the SDK, not a backend), the
 * async-hooks context manager, the W3C propagator, and, with `metrics`, a meter provider whose
 * periodic reader exports every second to an exporter that drops it.
 */
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';

const dropped = (_items: unknown, done: (result: { code: number }) => void): void => done({ code: ExportResultCode.SUCCESS });

export function installBenchSdk(options: { metrics: boolean }): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const exporter = { export: dropped, shutdown: async () => {} };
  trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter })] }));
  if (!options.metrics) return;
  const metricExporter = { export: dropped, shutdown: async () => {}, forceFlush: async () => {}, selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE };
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 1000 })] }));
}
