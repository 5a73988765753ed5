/**
 * The real OpenTelemetry SDK for one test file (node --test runs each file in its own
 * process, and global registration is process-wide): a tracer provider with an in-memory
 * exporter (simple processor: spans are there when they end), the async-hooks context
 * manager, the W3C propagator (SDK 3's options-object constructors), and a meter provider with a reader the test collects on demand.
 */
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';

class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export interface TestSdk {
  readonly tracerProvider: TracerProvider;
  readonly spans: InMemorySpanExporter;
  /** The spans ended so far, once their (asynchronous) export is done. */
  finished(): Promise<ReadableSpan[]>;
  /** The metrics one instrumentation scope (meshlet's by default) has now, by name. */
  collect(scope?: string): Promise<Map<string, MetricData>>;
  shutdown(): Promise<void>;
}

export function installSdk(options: { metrics?: boolean } = {}): TestSdk {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(tracerProvider);
  const reader = new TestReader();
  const meterProvider = options.metrics === false ? undefined : new MeterProvider({ readers: [reader] });
  if (meterProvider !== undefined) metrics.setGlobalMeterProvider(meterProvider);
  return {
    tracerProvider,
    spans,
    async finished() {
      await tracerProvider.forceFlush();
      return spans.getFinishedSpans();
    },
    async collect(scope = 'meshlet') {
      const { resourceMetrics } = await reader.collect();
      const byName = new Map<string, MetricData>();
      for (const scoped of resourceMetrics.scopeMetrics) {
        if (scoped.scope.name !== scope) continue;
        for (const metric of scoped.metrics) byName.set(metric.descriptor.name, metric);
      }
      return byName;
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider?.shutdown();
    },
  };
}

/** Each span's parent span id (SDK 2 and 3 name it differently). */
export function parentOf(span: ReadableSpan): string | undefined {
  const s = span as ReadableSpan & { parentSpanId?: string; parentSpanContext?: { spanId: string } };
  return s.parentSpanContext?.spanId ?? s.parentSpanId;
}
