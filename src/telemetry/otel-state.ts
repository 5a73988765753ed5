/**
 * Whether an OpenTelemetry SDK is installed, read through `@opentelemetry/api` only (DESIGN
 * §6: library code never imports the SDK). Without one, meshlet makes no span and records no
 * metric: the telemetry layers pass calls straight through (telemetry-stack.ts).
 *
 * NOTE: when it is read. Asking the global registry on every call costs a global lookup and a
 * version check; instead the answer is kept here and refreshed whenever a client stack is
 * built (createMesh, every config change that rebuilds a service) and by `refreshTelemetry()`
 * (telemetry-stack.ts), which an application that installs its SDK after createMesh calls once (or it pushes any
 * config). Diagnostics-channel subscribers need none of this: they are checked on every call
 * (observed.ts), because `hasSubscribers` is a field read.
 *
 * The tracer comes through the api's ProxyTracerProvider, so a tracer taken before the SDK
 * starts delegates to it once it does; meters have no proxy, so the instruments are made
 * again when the meter provider changes (otel-metrics.ts).
 */
import { createRequire } from 'node:module';
import { createNoopMeter, metrics, ProxyTracerProvider, type Tracer, type TracerProvider, trace } from '@opentelemetry/api';
import { createInstruments, type Instruments } from './otel-metrics.ts';

/** meshlet's version, the instrumentation scope's (spans and metrics say which meshlet made them). */
const VERSION = packageVersion();

function packageVersion(): string | undefined {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version?: string }).version;
  } catch {
    // NOTE: a layout without the package file (a bundle) only loses the version.
    return undefined;
  }
}

/** What a ProxyTracerProvider delegates to while no SDK is registered (the api's no-op). */
const NO_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();
const NO_METER = createNoopMeter();

export interface OtelState {
  /** A tracer provider other than the api's no-op is registered. */
  tracing: boolean;
  /** A meter provider other than the api's no-op is registered. */
  metering: boolean;
  readonly tracer: Tracer;
  /** The meshlet instruments on the registered meter; undefined while `metering` is false. */
  instruments: Instruments | undefined;
}

export const otel: OtelState = {
  tracing: false,
  metering: false,
  tracer: trace.getTracer('meshlet', VERSION),
  instruments: undefined,
};

let meterProvider: unknown;

/** Reads the global registry again. */
export function readOtelRegistry(): void {
  otel.tracing = delegateOf(trace.getTracerProvider()) !== NO_TRACER_PROVIDER;
  const provider = metrics.getMeterProvider();
  if (provider === meterProvider) return;
  meterProvider = provider;
  const meter = provider.getMeter('meshlet', VERSION);
  otel.metering = meter !== NO_METER;
  otel.instruments = otel.metering ? createInstruments(meter) : undefined;
}

/** The provider behind the api's proxy (duck-typed: another copy of the api has its own class). */
function delegateOf(provider: TracerProvider): TracerProvider {
  const proxy = provider as Partial<ProxyTracerProvider>;
  return typeof proxy.getDelegate === 'function' ? proxy.getDelegate() : provider;
}
