/**
 * One variant of the overhead benchmark, in a process of its own (bench/overhead.ts forks
 * one per variant). Why a process each: V8 optimises undici's code for the calls it sees, and
 * a process mixing calls with and without an abort signal (bare undici and meshlet) runs
 * both on code tuned for neither; Node core's own benchmark runner forks per configuration
 * for the same reason. The parent drives the rounds over IPC, so the variants still
 * alternate in one run and machine noise hits them alike.
 *
 * argv: variant (`bare` | `meshlet` | `haproxy`, or `bare-memory` | `meshlet-memory`, which
 * answer in memory instead of over the network: support/in-memory-dispatch.ts), target port.
 * `meshlet-routed-memory` is meshlet calling a service with 20 routes, the last matching, and a
 * 3-way split (support/routed-service.ts).
 * `meshlet-traces` and `meshlet-otel` (either with `-memory`) are meshlet with the OpenTelemetry
 * SDK installed before the mesh (support/otel-sdk.ts): every span sampled; `-otel` adds metrics.
 * `meshlet-noopsdk-memory` is meshlet with an SDK that records and keeps nothing (installNoopSdk):
 * meshlet's own share of those rows.
 * `bare-traces` and `bare-otel` (either with `-memory`) are the floor of those rows: bare undici
 * with the same SDK and the same spans, headers and metrics made by hand (handTraced below),
 * what any instrumentation of this call costs with this SDK.
 */
import { createHook } from 'node:async_hooks';
import { type Dispatcher, Pool } from 'undici';
import { measureAllocation } from './allocation.ts';
import { type Call, latencies, throughput } from './driver.ts';
import { installInMemoryDispatch } from './in-memory-dispatch.ts';
import { routedService } from './routed-service.ts';
import { handTraced, installBenchSdk, installNoopSdk } from './otel-sdk.ts';

export type CallerCommand = { readonly kind: 'throughput'; readonly concurrency: number; readonly ms: number } | { readonly kind: 'latency'; readonly count: number; readonly ms: number }
  | { readonly kind: 'promises'; readonly count: number };

export type CallerReply =
  | { readonly kind: 'ready' }
  | { readonly kind: 'skipped'; readonly reason: string }
  | { readonly kind: 'throughput'; readonly perSecond: number; readonly cpuPerCallUs: number; readonly bytesPerCall: number }
  | { readonly kind: 'latency'; readonly samples: number[] }
  | { readonly kind: 'promises'; readonly perCall: number };

/** The mesh's default pool size, so the bare baseline has the same sockets. */
const CONNECTIONS = 64;

/** How a call reads its body: `.dump()` over the network; `.text()` in memory, as an application reading a small answer would. */
type BodyRead = (body: { dump(): Promise<void>; text(): Promise<string> }) => Promise<unknown>;
const dump: BodyRead = (body) => body.dump();
const text: BodyRead = (body) => body.text();

async function setUp(variant: string, port: number): Promise<{ call: Call; close: () => Promise<void> }> {
  const inMemory = variant.endsWith('-memory');
  if (inMemory) installInMemoryDispatch();
  const read = inMemory ? text : dump;
  const traced = /^(meshlet|bare)-(traces|otel)/.exec(variant);
  if (traced !== null) installBenchSdk({ metrics: traced[2] === 'otel' });
  if (variant.startsWith('meshlet-noopsdk')) installNoopSdk();
  if (variant.startsWith('meshlet')) {
    const { createMesh } = await import('../../src/index.ts');
    // `meshlet-routed`: the same endpoint behind 20 routes and a 3-way split (support/routed-service.ts).
    const api = variant.startsWith('meshlet-routed') ? routedService([{ address: `127.0.0.1:${port}`, tags: ['v1', 'v2', 'v3'] }]) : { endpoints: [`127.0.0.1:${port}`] };
    const mesh = await createMesh({ service: 'bench', config: { services: { api } } });
    const client = mesh.client('api');
    return {
      call: async () => {
        const res = await client.request({ method: 'GET', path: '/' });
        await read(res.body);
      },
      close: () => mesh.close(),
    };
  }
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONNECTIONS });
  if (traced !== null) {
    const request = handTraced<Dispatcher.ResponseData>(port, traced[2] === 'otel', (headers, done) => pool.request({ method: 'GET', path: '/', headers }, done));
    return {
      call: async () => {
        const res = await request();
        await read(res.body);
      },
      close: () => pool.close(),
    };
  }
  return {
    call: async () => {
      const res = await pool.request({ method: 'GET', path: '/' });
      await read(res.body);
    },
    close: () => pool.close(),
  };
}

/**
 * Promises created per call, the bench's own loop included (the same for every variant):
 * an async_hooks init hook counts each PROMISE resource. Promise hooks slow every promise,
 * so the parent asks for this only after the timed rounds.
 */
async function promisesPerCall(call: Call, count: number): Promise<number> {
  let promises = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === 'PROMISE') promises++;
    },
  });
  hook.enable();
  for (let i = 0; i < count; i++) await call();
  hook.disable();
  return promises / count;
}

const reply = (message: CallerReply): void => {
  process.send!(message);
};

const [variant = 'bare', port = '0'] = process.argv.slice(2);
let client: { call: Call; close: () => Promise<void> };
try {
  client = await setUp(variant, Number(port));
  await client.call(); // fail here, not mid-run, if the variant cannot reach the backend
} catch (error) {
  reply({ kind: 'skipped', reason: (error as Error).message });
  process.exit(0);
}
process.on('message', async (command: CallerCommand) => {
  if (command.kind === 'throughput') {
    const { result, bytes } = await measureAllocation(() => throughput(client.call, command.concurrency, command.ms));
    reply({ kind: 'throughput', perSecond: result.perSecond, cpuPerCallUs: result.cpuPerCallUs, bytesPerCall: bytes / result.calls });
  } else if (command.kind === 'promises') {
    reply({ kind: 'promises', perCall: await promisesPerCall(client.call, command.count) });
  } else {
    reply({ kind: 'latency', samples: await latencies(client.call, command.count, command.ms) });
  }
});
process.on('disconnect', () => {
  void client.close().finally(() => process.exit(0));
});
reply({ kind: 'ready' });
