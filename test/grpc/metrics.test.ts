/**
 * gRPC metrics with the real OpenTelemetry SDK (test/telemetry/otel-sdk.ts): rpc.client.duration
 * records one point per logical call (a retried call once), in ms on the semconv's buckets,
 * named as the spans are (rpc.system, rpc.service, rpc.method, rpc.grpc.status_code) plus
 * meshlet.service, with no endpoint address among its labels; streams are timed to their end.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import { installSdk } from '../telemetry/otel-sdk.ts';
import '../../src/transport/grpc/index.ts';
import { createMesh } from '../../src/index.ts';
import { type Any, type InventoryServer, type Item, InventoryClient, readAll, settle, startInventoryServer, unary } from './inventory-server.ts';

const sdk = installSdk();
const servers: InventoryServer[] = [];
after(async () => {
  for (const server of servers) server.kill();
  await sdk.shutdown();
});

type Point = { attributes: Record<string, unknown>; value: { count: number; sum: number; buckets: { boundaries: number[] } } };
const points = (metric: MetricData | undefined): Point[] => (metric?.dataPoints ?? []) as unknown as Point[];
const count = (metric: MetricData | undefined, match: Record<string, unknown>): number =>
  points(metric)
    .filter((point) => Object.entries(match).every(([key, value]) => point.attributes[key] === value))
    .reduce((sum, point) => sum + point.value.count, 0);

describe('grpc metrics', () => {
  it('records rpc.client.duration once per logical call, by method and status, with no endpoint label', async () => {
    let failFirst = 1;
    const server = await startInventoryServer('m', {
      GetItem: (call: Any, callback: Any) => (failFirst-- > 0 ? callback({ code: grpc.status.UNAVAILABLE, details: 'once' }) : callback(null, { id: call.request.id, server: 'm' })),
      Reserve: (_call: Any, callback: Any) => callback({ code: grpc.status.NOT_FOUND, details: 'no such item' }),
    });
    servers.push(server);
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [server.address], retry: { attempts: 3, backoff: { base: '1ms', max: '2ms' } } } } } });
    const client = mesh.grpc('inventory', InventoryClient, { idempotent: ['GetItem'] });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await unary<Item>(client, 'GetItem', { id: `g${i}` })).server, 'm');
      assert.equal((await settle(unary(client, 'Reserve', { id: 'r' }))).ok, false);
      const streamed = await readAll(client.ListItems({ id: 's', count: 2 }));
      assert.equal(streamed.error, undefined);
      assert.equal(streamed.items.length, 2);
      assert.equal(server.calls.GetItem, 4, 'one GetItem was retried');
      const metric = (await sdk.collect()).get('rpc.client.duration');
      assert.ok(metric !== undefined, 'no rpc.client.duration');
      assert.equal(metric.descriptor.unit, 'ms');
      const base = { 'rpc.system': 'grpc', 'rpc.service': 'shop.Inventory', 'meshlet.service': 'inventory' };
      assert.equal(count(metric, { ...base, 'rpc.method': 'GetItem', 'rpc.grpc.status_code': 0 }), 3, 'three logical calls, the retry inside one');
      assert.equal(count(metric, { ...base, 'rpc.method': 'Reserve', 'rpc.grpc.status_code': grpc.status.NOT_FOUND }), 1);
      assert.equal(count(metric, { ...base, 'rpc.method': 'ListItems', 'rpc.grpc.status_code': 0 }), 1);
      for (const point of points(metric)) {
        assert.ok(!JSON.stringify(point.attributes).includes('127.0.0.1'), 'no endpoint address on the instrument');
        assert.deepEqual(point.value.buckets.boundaries, [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000]);
      }
    } finally {
      client.close();
      await mesh.close();
    }
  });
});
