/**
 * One scenario matrix (issue 13), run against Express, Fastify, Nest on Express and Nest on
 * Fastify with real servers: deadline propagation A → B → C, trace id continuity, a client
 * disconnect aborting B's outgoing call, an expired deadline answered 504 before the handler,
 * the default and the ceiling, inbound limits with Retry-After, the admin mount, the shutdown
 * order (deregistered while still answering; then nothing listens and the mesh is closed). That
 * a shut-down service leaves no handle open is shown by shutdown-exits.test.ts in a child
 * process. Each framework's file (express.test.ts, …) runs the matrix.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { createMesh, isMeshError, type Mesh, TIMEOUT_HEADER } from '../../src/index.ts';
import type { InboundOptions } from '../../src/inbound/inbound-http.ts';
import { call } from '../support/consul-emulator/wire-client.ts';
import { consulForTests } from '../support/consul.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';
import { expectMeshError } from '../support/mesh-error.ts';
import { installSdk } from '../telemetry/otel-sdk.ts';
import { eventually, sleep } from '../support/waits.ts';
import { get } from './client.ts';
import { startSlowAgent } from './slow-agent.ts';
import { type App, type Framework, type Routes, statusOf } from './frameworks.ts';

// The application's OpenTelemetry set-up, as a service would have it: the real SDK (tracer
// provider with an in-memory exporter, async-hooks context manager, W3C propagator).
const sdk = installSdk({ metrics: false });

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

/** B's call to C, its failure's code (or text) pushed on `outcomes` before it is thrown on. */
async function callRecordingFailure(mesh: Mesh, outcomes: string[]): Promise<number> {
  try {
    return await statusOf(mesh.client('c').request({ path: '/c' }));
  } catch (error) {
    outcomes.push(isMeshError(error) ? error.code : String(error));
    throw error;
  }
}

/** The whole matrix for one framework (one test file each, so they run apart). */
export function adapterMatrix(framework: Framework): void {
  describe(`adapter matrix: ${framework.name}`, () => {
    const closers: (() => Promise<void>)[] = [];
    const meshOf = async (services: Record<string, string>): Promise<Mesh> => {
      const mesh = await createMesh({ service: 'test', config: { services: Object.fromEntries(Object.entries(services).map(([name, address]) => [name, { endpoints: [address] }])) } });
      closers.push(() => mesh.close());
      return mesh;
    };
    const serve = async (mesh: Mesh, routes: Routes, options: InboundOptions = {}): Promise<App> => {
      const app = await framework.start(mesh, options, routes);
      closers.push(() => app.shutdown());
      return app;
    };
    const backend = async (handler?: Parameters<typeof startBackend>[0]): Promise<Backend> => {
      const started = await startBackend(handler);
      closers.push(() => started.close());
      return started;
    };
    const addressOf = (app: App): string => new URL(app.url).host;
    after(async () => {
      for (const close of closers.reverse()) await close();
    });

    it('deadline propagation: A with 300 ms left calls B, B calls C with less; a slow C is a 504 at A within the deadline', async () => {
      // The first call (the warm-up: connections and code paths) is answered at once, the rest late.
      const c = await backend(async (_req, res) => {
        if (c.received.length > 1) await sleep(1500);
        res.end('late');
      });
      const b = await serve(await meshOf({ c: c.address }), { '/b': async ({ mesh }) => statusOf(mesh.client('c').request({ path: '/c' })) });
      const a = await serve(await meshOf({ b: addressOf(b) }), { '/a': async ({ mesh }) => statusOf(mesh.client('b').request({ path: '/b' })) });
      assert.equal((await get(`${a.url}/a`)).status, 200, 'warm-up');
      const answer = await get(`${a.url}/a`, { [TIMEOUT_HEADER]: '300' });
      assert.equal(answer.status, 504, answer.body);
      // NOTE: the bound leaves 200 ms for a loaded machine (two cores shared by several suites).
      assert.ok(answer.ms < 500, `A answered after ${Math.round(answer.ms)} ms, past its 300 ms deadline`);
      assert.ok(answer.ms > 250, `A answered after ${Math.round(answer.ms)} ms, before its deadline`);
      const sentToC = Number(c.received[1]?.headers[TIMEOUT_HEADER]);
      assert.ok(sentToC > 0 && sentToC < 300, `B's call to C carried ${sentToC} ms`);
    });

    it('trace continuity with the OpenTelemetry SDK: the trace id A was called with reaches C through B, each hop the child of the last', async () => {
      const c = await backend();
      const seen: Record<string, string | undefined> = {};
      const b = await serve(await meshOf({ c: c.address }), {
        '/b': async ({ mesh, headers }) => {
          seen.b = String(headers.traceparent);
          seen.bActive = trace.getSpanContext(context.active())?.traceId;
          return statusOf(mesh.client('c').request({ path: '/c' }));
        },
      });
      const a = await serve(await meshOf({ b: addressOf(b) }), {
        '/a': async ({ mesh }) => {
          seen.aActive = trace.getSpanContext(context.active())?.traceId;
          return statusOf(mesh.client('b').request({ path: '/b' }));
        },
      });
      sdk.spans.reset();
      const answer = await get(`${a.url}/a`, { traceparent: TRACEPARENT });
      assert.equal(answer.status, 200, answer.body);
      assert.equal(seen.aActive, TRACE_ID, "the caller's trace is active in A's handler");
      assert.equal(seen.bActive, TRACE_ID, "and in B's");
      const [, toB, fromA] = seen.b!.split('-');
      const [, toC, fromB] = String(c.received[0]?.headers.traceparent).split('-');
      assert.equal(toB, TRACE_ID);
      assert.equal(toC, TRACE_ID);
      const spans = await sdk.finished();
      assert.ok(spans.length >= 4, `meshlet's spans for both calls (got ${spans.length})`);
      for (const span of spans) assert.equal(span.spanContext().traceId, TRACE_ID, `span ${span.name} is in the caller's trace`);
      const ids = new Set(spans.map((span) => span.spanContext().spanId));
      assert.ok(ids.has(fromA!), "B was called from A's attempt span");
      assert.ok(ids.has(fromB!), "C was called from B's attempt span");
    });

    it("a client disconnect aborts B's outgoing call", async () => {
      // C never answers; its connection closing is what the test waits for.
      const c = await backend(() => {});
      const outcomes: string[] = [];
      const b = await serve(await meshOf({ c: c.address }), { '/b': async ({ mesh }) => callRecordingFailure(mesh, outcomes) });
      const gone = new AbortController();
      const answer = get(`${b.url}/b`, {}, gone.signal).catch((error: Error) => error.name);
      await eventually(() => c.received.length === 1, 'B called C');
      gone.abort();
      assert.equal(await answer, 'AbortError');
      await eventually(() => c.aborted === 1 && outcomes.length === 1, "B's call to C aborted", 1000);
      assert.deepEqual(outcomes, ['MESH_ABORTED']);
    });

    it("regression (lazy cancellation): a client gone before B's first outgoing call aborts the call B makes after, which is never sent", async () => {
      const c = await backend();
      const outcomes: string[] = [];
      let clientGone!: () => void;
      const whenGone = new Promise<void>((resolve) => (clientGone = resolve));
      let started!: () => void;
      const whenStarted = new Promise<void>((resolve) => (started = resolve));
      const b = await serve(await meshOf({ c: c.address }), {
        '/b': async ({ mesh }) => {
          started();
          await whenGone;
          return callRecordingFailure(mesh, outcomes);
        },
      });
      const gone = new AbortController();
      const answer = get(`${b.url}/b`, {}, gone.signal).catch((error: Error) => error.name);
      await whenStarted;
      gone.abort();
      assert.equal(await answer, 'AbortError');
      // The server sees the connection close shortly after the client drops it.
      await sleep(100);
      clientGone();
      await eventually(() => outcomes.length === 1, "B's call after the disconnect failed", 1000);
      assert.deepEqual(outcomes, ['MESH_ABORTED']);
      assert.equal(c.received.length, 0, 'the call was never sent');
    });

    it('an expired deadline is a 504 before the handler runs; the default and the ceiling bound what is sent on', async () => {
      const c = await backend();
      let ran = 0;
      const routes: Routes = {
        '/b': async ({ mesh }) => {
          ran++;
          return await statusOf(mesh.client('c').request({ path: '/c' }));
        },
      };
      const b = await serve(await meshOf({ c: c.address }), routes, { defaultTimeout: '250ms', maxTimeout: 400 });
      for (const headers of [{ [TIMEOUT_HEADER]: '0' }, { 'grpc-timeout': '0m' }] as Record<string, string>[]) {
        const expired = await get(`${b.url}/b`, headers);
        assert.equal(expired.status, 504, expired.body);
        assert.equal(JSON.parse(expired.body).error, 'MESH_TIMEOUT');
      }
      assert.equal(ran, 0, 'the handler never ran');
      assert.equal((await get(`${b.url}/b`)).status, 200);
      assert.equal((await get(`${b.url}/b`, { [TIMEOUT_HEADER]: '60000' })).status, 200);
      assert.equal((await get(`${b.url}/b`, { 'grpc-timeout': '100m' })).status, 200);
      // Hostile values are not deadlines: the default applies.
      assert.equal((await get(`${b.url}/b`, { [TIMEOUT_HEADER]: '-5' })).status, 200);
      const sent = c.received.map((r) => Number(r.headers[TIMEOUT_HEADER]));
      assert.equal(sent.length, 4);
      assert.ok(sent[0]! <= 250 && sent[0]! > 200, `default: ${sent[0]}`);
      assert.ok(sent[1]! <= 400 && sent[1]! > 350, `ceiling: ${sent[1]}`);
      assert.ok(sent[2]! <= 100 && sent[2]! > 50, `grpc-timeout: ${sent[2]}`);
      assert.ok(sent[3]! <= 250 && sent[3]! > 200, `hostile header, default: ${sent[3]}`);
    });

    it('inbound limits: a rate answers 429 and a concurrency limit 503, both with Retry-After', async () => {
      const mesh = await meshOf({});
      const rated = await serve(mesh, { '/x': async () => 'ok' }, { limits: { rate: { perSecond: 1, burst: 1 } } });
      assert.equal((await get(`${rated.url}/x`)).status, 200);
      const limited = await get(`${rated.url}/x`);
      assert.equal(limited.status, 429, limited.body);
      assert.equal(limited.headers['retry-after'], '1');
      let release = (): void => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      const narrow = await serve(await meshOf({}), { '/hold': async () => held.then(() => 'done') }, { limits: { concurrency: 1 } });
      const first = get(`${narrow.url}/hold`);
      await sleep(50);
      const busy = await get(`${narrow.url}/hold`);
      assert.equal(busy.status, 503, busy.body);
      assert.equal(busy.headers['retry-after'], '1');
      release();
      assert.equal((await first).status, 200);
      assert.equal((await get(`${narrow.url}/hold`)).status, 200, 'the place is free again');
    });

    it('the admin handler is mounted at its path, outside limits and deadlines', async () => {
      const token = 'admin-t0ken-for-tests';
      const app = await serve(await meshOf({ c: '127.0.0.1:1' }), { '/x': async () => 'ok' }, { admin: { path: '/_meshlet', token }, limits: { concurrency: 1 } });
      const state = await get(`${app.url}/_meshlet/state.json`, { [TIMEOUT_HEADER]: '0', authorization: `Bearer ${token}` });
      assert.equal(state.status, 200, state.body);
      assert.ok(Object.hasOwn(JSON.parse(state.body).services, 'c'), 'the mesh state');
      assert.equal((await get(`${app.url}/_meshlet/state.json`)).status, 401, 'the token is required');
      const mount = await get(`${app.url}/_meshlet?token=${token}`);
      assert.equal(mount.status, 308);
      assert.equal(mount.headers.location, `/_meshlet/?token=${token}`, "the dashboard's ./state.json resolves under the mount");
      assert.equal((await get(`${app.url}/_meshlet/`, { authorization: `Bearer ${token}` })).status, 200);
      assert.equal((await get(`${app.url}/_meshletx`)).status, 404, 'only the path itself and below');
    });

    it('shutdown: deregistered from Consul while still answering (and calling), then it stops answering and closes its mesh', async () => {
      const consul = await consulForTests();
      closers.push(() => consul.close());
      const agent = await startSlowAgent(consul.url, 300);
      closers.push(() => agent.close());
      const c = await backend();
      const mesh = await createMesh({ service: 'b', consul: { url: agent.url }, config: { services: { c: { endpoints: [c.address] } } } });
      closers.push(() => mesh.close());
      const b = await serve(mesh, { '/b': async ({ mesh }) => statusOf(mesh.client('c').request({ path: '/c' })) });
      const port = Number(new URL(b.url).port);
      await mesh.register({ name: 'b', port, address: '127.0.0.1', check: { ttl: '30s' } });
      const instances = async (): Promise<number> => (await call(consul.url, 'GET', '/v1/health/service/b')).json<unknown[]>().length;
      assert.equal(await instances(), 1);
      const stopping = b.shutdown();
      await eventually(() => agent.deregistrations === 1, 'the deregistration reached the agent', 2000);
      const during = await get(`${b.url}/b`);
      assert.equal(during.status, 200, `answered while being deregistered: ${during.body}`);
      assert.equal(agent.deregistered, 0, 'that answer came before the agent took the instance out');
      await stopping;
      assert.equal(agent.deregistered, 1);
      assert.equal(await instances(), 0);
      assert.equal(b.server.listening, false);
      await assert.rejects(get(`${b.url}/b`), { code: 'ECONNREFUSED' });
      await expectMeshError(mesh.client('c').request({ path: '/c' }), 'MESH_CLOSED');
    });
  });
}
