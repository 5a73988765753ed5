/**
 * The README's "Observability" set-up, runnable: `node examples/observability.ts`. The
 * application's OpenTelemetry SDK exports meshlet's metrics to Prometheus (meshlet has no
 * exposition code of its own) and its spans wherever the SDK sends them; instrumentation-undici
 * may run beside it. A stand-in "payments" service on loopback makes it run anywhere; it
 * prints one scrape of the metrics and exits.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, ConsoleSpanExporter } from '@opentelemetry/sdk-trace';
import { createMesh, isMeshletAttempt } from '../src/index.ts';

const payments = createServer((_req, res) => res.end('ok'));
await new Promise<void>((resolve) => payments.listen(0, '127.0.0.1', resolve));
const port = (payments.address() as AddressInfo).port;

// --- observability ---
const sdk = new NodeSDK({
  // Spans go wherever the application sends them (OTLP, Zipkin, …); here, to the console.
  spanProcessors: [new BatchSpanProcessor({ exporter: new ConsoleSpanExporter() })],
  // Serves http://127.0.0.1:9464/metrics in the Prometheus text format.
  metricReaders: [new PrometheusExporter({ host: '127.0.0.1', port: 9464 })],
  // Optional: meshlet already suppresses its second span and traceparent; the hook also
  // keeps undici's instrumentation from recording a second request duration.
  instrumentations: [new UndiciInstrumentation({ ignoreRequestHook: isMeshletAttempt })],
});
sdk.start(); // before createMesh (a mesh made earlier: call refreshTelemetry() once)

const mesh = await createMesh({ service: 'checkout', config: { services: { payments: { endpoints: [`127.0.0.1:${port}`] } } } });
// --- end observability ---

await (await mesh.client('payments').request({ path: '/' })).body.text();
const scrape = await (await fetch('http://127.0.0.1:9464/metrics')).text();
console.log(scrape.split('\n').filter((line) => /^(meshlet_client_calls|http_client_request_duration\w*_count)/.test(line)).join('\n'));
await mesh.close();
await sdk.shutdown();
payments.close();
