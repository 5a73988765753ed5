/**
 * A mesh event's span event lands on the span of the call it happened to, now that a call
 * without a breaker no longer runs inside its span's context (call-span.ts): retries found
 * through the event's call, ejections through the attempt whose end caused them, sheds at the
 * call's end. Calls run concurrently inside an application's own active span, which must get
 * none of them (with the active span as the fallback, it would get them all).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { createMesh } from '../../src/index.ts';
import { startBackend } from '../support/http-backend.ts';
import { installSdk, parentOf, type TestSdk } from './otel-sdk.ts';

const sdk: TestSdk = installSdk({ metrics: false });
after(() => sdk.shutdown());

/** Runs `work` inside an application span; returns that span's id. */
async function inAppSpan(work: () => Promise<unknown>): Promise<string> {
  return trace.getTracer('app').startActiveSpan('app', async (span) => {
    try {
      await work();
    } finally {
      span.end();
    }
    return span.spanContext().spanId;
  });
}

function meshletEvents(span: ReadableSpan): string[] {
  return span.events.map((event) => event.name).filter((name) => name.startsWith('meshlet.'));
}

/** The call spans (INTERNAL) with the attempt spans below each. */
function calls(spans: readonly ReadableSpan[]): { span: ReadableSpan; attempts: ReadableSpan[] }[] {
  return spans.filter((span) => span.kind === SpanKind.INTERNAL && span.attributes['meshlet.service'] !== undefined).map((span) => ({ span, attempts: spans.filter((s) => parentOf(s) === span.spanContext().spanId) }));
}

describe('span events of concurrent calls without a breaker', () => {
  it("puts each call's retry on its own span, never another call's or the application's", async () => {
    const seen = new Set<string>();
    const backend = await startBackend((req, res) => {
      const path = req.url ?? '';
      // Odd calls fail their first try; answers are spread out so the calls interleave.
      const first = !seen.has(path);
      seen.add(path);
      const n = Number(path.slice(1));
      setTimeout(() => {
        res.statusCode = first && n % 2 === 1 ? 503 : 200;
        res.end();
      }, (n * 7) % 23);
    });
    const mesh = await createMesh({ service: 'checkout', config: { services: { api: { endpoints: [backend.address], outlier: false, retry: { attempts: 2, backoff: { base: '1ms', max: '3ms' } } } } } });
    try {
      sdk.spans.reset();
      const app = await inAppSpan(() => Promise.all(Array.from({ length: 12 }, (_, n) => mesh.client('api').request({ path: `/${n}` }).then((res) => res.body.dump()))));
      const spans = await sdk.finished();
      const appSpan = spans.find((span) => span.spanContext().spanId === app)!;
      assert.deepEqual(meshletEvents(appSpan), []);
      const found = calls(spans);
      assert.equal(found.length, 12);
      for (const { span, attempts } of found) {
        const n = Number(String(attempts[0]!.attributes['url.full']).split('/').pop());
        assert.deepEqual(meshletEvents(span), n % 2 === 1 ? ['meshlet.retry'] : [], `call /${n}`);
        assert.equal(attempts.length, n % 2 === 1 ? 2 : 1, `call /${n}`);
        for (const attempt of attempts) assert.deepEqual(meshletEvents(attempt), []);
      }
    } finally {
      await mesh.close();
      await backend.close();
    }
  });

  it('puts an ejection on the call whose attempt caused it, and a shed on the refused call', async () => {
    const sick = await startBackend((_req, res) => {
      res.statusCode = 503;
      setTimeout(() => res.end(), 5);
    });
    const healthy = await startBackend((_req, res) => {
      setTimeout(() => res.end('ok'), 5);
    });
    const mesh = await createMesh({
      service: 'checkout',
      config: {
        services: {
          api: { endpoints: [sick.address, healthy.address], retry: false, outlier: { consecutiveFailures: 1, maxEjectedPercent: 50, ejectFor: '30s' } },
          limited: { endpoints: [healthy.address], rateLimit: { rps: 0.001, burst: 1 } },
        },
      },
    });
    try {
      sdk.spans.reset();
      const app = await inAppSpan(async () => {
        await Promise.all(Array.from({ length: 4 }, () => mesh.client('api').request({ path: '/' }).then((res) => res.body.dump())));
        await (await mesh.client('limited').request({ path: '/' })).body.dump();
        await assert.rejects(mesh.client('limited').request({ path: '/' }), { code: 'MESH_RATE_LIMITED' });
      });
      const spans = await sdk.finished();
      assert.deepEqual(meshletEvents(spans.find((span) => span.spanContext().spanId === app)!), []);
      const found = calls(spans);
      const ejecting = found.filter(({ span }) => meshletEvents(span).includes('meshlet.eject'));
      assert.equal(ejecting.length, 1, 'one ejection, on one call');
      assert.equal(ejecting[0]!.attempts[0]!.attributes['server.port'], sick.port, 'the call whose attempt went to the sick endpoint');
      const shed = found.filter(({ span }) => meshletEvents(span).includes('meshlet.shed'));
      assert.equal(shed.length, 1);
      assert.equal(shed[0]!.span.attributes['meshlet.service'], 'limited');
      assert.equal(shed[0]!.span.events.find((event) => event.name === 'meshlet.shed')!.attributes?.['meshlet.shed.reason'], 'rate-limited');
      assert.equal(shed[0]!.attempts.length, 0);
    } finally {
      await mesh.close();
      await sick.close();
      await healthy.close();
    }
  });
});
