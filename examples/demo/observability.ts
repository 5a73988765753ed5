/**
 * The demo's window into the mesh (issue 12): the OpenTelemetry Node SDK with a Prometheus
 * exporter, started BEFORE the mesh (meters have no proxy: instruments made before the SDK
 * would stay no-ops), and one loopback server for the two pages an operator opens:
 *
 *   http://127.0.0.1:<port>/admin/    the live dashboard (mesh.adminHandler())
 *   http://127.0.0.1:<port>/metrics   Prometheus text, from the exporter's own handler
 *
 * The exporter does not start its own server (`preventServerStart`): its request handler is
 * mounted here, so the demo holds one port (DEMO_PORT, default any free one). Spans go to a
 * batch processor that only counts them, so nothing is sent anywhere and nothing piles up.
 * With `--hold` the demo keeps both pages up after its run until Ctrl-C.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import type { Mesh } from '../../src/index.ts';

type AdminHandler = ReturnType<Mesh['adminHandler']>;

export interface DemoObservability {
  /** Serves this mesh's dashboard at /admin/ and prints both URLs. */
  attach(mesh: Mesh): void;
  /** With --hold: waits for Ctrl-C (SIGINT) or SIGTERM, the pages still up; otherwise returns at once. */
  holdIfAsked(): Promise<void>;
  /** Stops the server and the SDK (flushing the span count). */
  close(): Promise<void>;
}

/** Counts what the SDK exports: proof the spans are made, with no collector to send them to. */
class CountingExporter implements SpanExporter {
  spans = 0;
  export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    this.spans += spans.length;
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
}

export async function startObservability(hold: boolean): Promise<DemoObservability> {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const spans = new CountingExporter();
  const sdk = new NodeSDK({ serviceName: 'storefront', metricReaders: [exporter], spanProcessors: [new BatchSpanProcessor({ exporter: spans })], instrumentations: [] });
  sdk.start();
  let admin: AdminHandler | undefined;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/metrics') return exporter.getMetricsRequestHandler(req, res);
    if (path.startsWith('/admin/') && admin !== undefined) return admin(req, res);
    res.statusCode = path === '/' ? 302 : 404;
    if (path === '/') res.setHeader('location', '/admin/');
    res.end(path === '/' ? '' : 'the demo serves /admin/ and /metrics\n');
  });
  server.listen(Number(process.env.DEMO_PORT ?? 0), '127.0.0.1');
  await once(server, 'listening');
  // The server must not keep a finished run alive; --hold waits on a signal instead.
  server.unref();
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    attach(mesh) {
      admin = mesh.adminHandler();
      console.log(`dashboard: ${base}/admin/`);
      console.log(`metrics:   ${base}/metrics${hold ? '' : '   (add --hold to keep both up after the run)'}\n`);
    },
    async holdIfAsked() {
      if (!hold) return;
      console.log(`\nholding: the dashboard (${base}/admin/) and metrics stay up; Ctrl-C to stop`);
      const keepAlive = setInterval(() => {}, 1 << 30);
      await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
      clearInterval(keepAlive);
    },
    async close() {
      admin?.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await sdk.shutdown();
      console.log(`spans made (counted, not sent): ${spans.spans}`);
    },
  };
}
