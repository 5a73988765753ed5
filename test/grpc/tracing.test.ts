/**
 * gRPC tracing with the real OpenTelemetry SDK (test/telemetry/otel-sdk.ts): one CLIENT span
 * per logical call, retries inside it, named and attributed as the RPC conventions and
 * instrumentation-grpc do; none of its own beside that instrumentation's; its traceparent
 * reaches the server; and one trace runs from an HTTP
 * call through the mesh, into the HTTP server that serves it, on into its gRPC call.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import grpc from '@grpc/grpc-js';
import { installSdk, parentOf } from '../telemetry/otel-sdk.ts';
import '../../src/transport/grpc/index.ts';
import { createMesh } from '../../src/index.ts';
import { runScript } from '../support/child-script.ts';
import { type Any, type InventoryServer, type Item, InventoryClient, startInventoryServer, unary } from './inventory-server.ts';

const sdk = installSdk({ metrics: false });
const servers: InventoryServer[] = [];
after(async () => {
  for (const server of servers) server.kill();
  await sdk.shutdown();
});

/** Each server call's traceparent, as it arrived. */
const traceparents: string[] = [];
let failFirst = 0;
const handlers = {
  GetItem: (call: Any, callback: Any) => {
    traceparents.push(String(call.metadata.get('traceparent')[0] ?? ''));
    if (failFirst-- > 0) callback({ code: grpc.status.UNAVAILABLE, details: 'once' });
    else callback(null, { id: call.request.id, server: 'g' });
  },
};

describe('grpc tracing', () => {
  it('makes one CLIENT span per logical call, retries inside it, its traceparent on every attempt', async () => {
    const backend = await startInventoryServer('g', handlers);
    servers.push(backend);
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [backend.address], retry: { attempts: 2, backoff: { base: '1ms', max: '1ms' } } } } } });
    const client = mesh.grpc('inventory', InventoryClient, { idempotent: ['GetItem'] });
    try {
      sdk.spans.reset();
      traceparents.length = 0;
      failFirst = 1;
      const parent = trace.getTracer('test').startSpan('caller');
      await context.with(trace.setSpan(context.active(), parent), () => unary<Item>(client, 'GetItem', { id: 'a' }));
      parent.end();
      const spans = (await sdk.finished()).filter((span) => span.name === 'shop.Inventory/GetItem');
      assert.equal(spans.length, 1, 'one span for the call and its retry');
      const span = spans[0]!;
      assert.equal(span.kind, SpanKind.CLIENT);
      assert.equal(parentOf(span), parent.spanContext().spanId);
      assert.deepEqual(
        { system: span.attributes['rpc.system'], service: span.attributes['rpc.service'], method: span.attributes['rpc.method'], status: span.attributes['rpc.grpc.status_code'], mesh: span.attributes['meshlet.service'] },
        { system: 'grpc', service: 'shop.Inventory', method: 'GetItem', status: 0, mesh: 'inventory' },
      );
      assert.equal(traceparents.length, 2);
      for (const header of traceparents) assert.equal(header, `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('makes no second CLIENT span beside @opentelemetry/instrumentation-grpc: it enriches that span', async () => {
    // Its own process: the instrumentation patches grpc-js as grpc-js loads.
    const script = fileURLToPath(new URL('../fixtures/grpc/with-instrumentation.ts', import.meta.url));
    const run = await runScript(script, [], { killAfterMs: 15_000 });
    assert.equal(run.code, 0, run.stderr);
    const spans = JSON.parse(run.stdout.trim().split('\n').pop()!) as { name: string; scope: string; meshletService: string | null }[];
    assert.deepEqual(spans, [{ name: 'grpc.shop.Inventory/GetItem', scope: '@opentelemetry/instrumentation-grpc', meshletService: 'inventory' }]);
  });

  it('carries one trace from an HTTP call through the mesh into the gRPC call the HTTP server makes', async () => {
    const backend = await startInventoryServer('g', handlers);
    servers.push(backend);
    let mesh: Awaited<ReturnType<typeof createMesh>> | undefined;
    let grpcClient: Any;
    // The HTTP service: continues the caller's trace, and calls inventory over gRPC through the mesh.
    const http = createServer((req, res) => {
      const incoming = propagation.extract(context.active(), req.headers);
      const span = trace.getTracer('test').startSpan('GET /order', { kind: SpanKind.SERVER }, incoming);
      context.with(trace.setSpan(incoming, span), async () => {
        const item = await unary<Item>(grpcClient, 'GetItem', { id: 'order' });
        span.end();
        res.end(JSON.stringify(item));
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      mesh = await createMesh({
        service: 't',
        config: { services: { orders: { endpoints: [`127.0.0.1:${(http.address() as AddressInfo).port}`] }, inventory: { endpoints: [backend.address] } } },
      });
      grpcClient = mesh.grpc('inventory', InventoryClient);
      sdk.spans.reset();
      traceparents.length = 0;
      failFirst = 0;
      const root = trace.getTracer('test').startSpan('checkout');
      const res = await context.with(trace.setSpan(context.active(), root), () => mesh!.client('orders').request({ method: 'GET', path: '/order' }));
      assert.equal(res.statusCode, 200);
      await res.body.text();
      root.end();
      const traceId = root.spanContext().traceId;
      const spans = await sdk.finished();
      const grpcSpan = spans.find((span) => span.name === 'shop.Inventory/GetItem');
      assert.ok(grpcSpan !== undefined, `spans: ${spans.map((span) => span.name).join(', ')}`);
      assert.equal(grpcSpan.spanContext().traceId, traceId, 'the gRPC call is in the HTTP call\'s trace');
      assert.equal(parentOf(grpcSpan), spans.find((span) => span.name === 'GET /order')!.spanContext().spanId);
      assert.ok(traceparents[0]!.includes(traceId), 'and so is what the gRPC server received');
    } finally {
      grpcClient?.close();
      await mesh?.close();
      http.close();
    }
  });
});
