/**
 * Retry storms: a backend that fails every call (503) and three clients hammering it.
 * The load each client puts on the failing backend — backend requests per logical call — is
 * what decides whether a brownout becomes an outage. Measured in the same run:
 *   - baseline: one attempt per call, no retries (the load the callers themselves make);
 *   - naive: a 3-attempt p-retry loop around undici (what "just add retries" does);
 *   - meshlet with the default retry policy (2 attempts, budget 20% + 10/s over 10s), and
 *     with attempts raised to 3 (the budget, not `attempts`, must bound the load).
 * Calls go through the public API (createMesh + client.request: every layer, over undici pools).
 * Goal: meshlet ≤ 1.25x the baseline load, against about 3x for the naive loop.
 *
 * Run: node bench/retry-storm.ts   (about 10 s; traffic only to 127.0.0.1; never fails on timing)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pRetry from 'p-retry';
import { Pool } from 'undici';
import { createMesh } from '../src/index.ts';

const MESH_CALLS = 4_000;
const NAIVE_CALLS = 1_000;
const CONCURRENCY = 50;
const DEFAULT_RETRY = {
  attempts: 2,
  backoff: { base: '25ms', max: '250ms' },
  on: ['connect-error', 'reset', 502, 503, 504],
  budget: { ratio: 0.2, minPerSecond: 10, window: '10s' },
  maxRetryAfter: '10s',
};

let received = 0;
const server = createServer((_req, res) => {
  received++;
  res.statusCode = 503;
  res.end('unavailable');
});
server.keepAliveTimeout = 30_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;

/** Runs `calls` logical calls, `CONCURRENCY` at a time; returns backend requests per call. */
async function loadPerCall(calls: number, call: () => Promise<void>): Promise<number> {
  const before = received;
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < calls) await call();
    }),
  );
  return (received - before) / calls;
}

const pool = new Pool(`http://${address}`, { connections: CONCURRENCY });
const baseline = await loadPerCall(NAIVE_CALLS, async () => {
  const res = await pool.request({ path: '/', method: 'GET' });
  await res.body.dump();
});

const naive = await loadPerCall(NAIVE_CALLS, async () => {
  await pRetry(
    async () => {
      const res = await pool.request({ path: '/', method: 'GET' });
      await res.body.dump();
      if (res.statusCode >= 500) throw new Error(`status ${res.statusCode}`);
    },
    { retries: 2, minTimeout: 25, maxTimeout: 250, factor: 2, randomize: true },
  ).catch(() => undefined);
});

async function meshlet(retry: typeof DEFAULT_RETRY): Promise<number> {
  const mesh = await createMesh({
    service: 'bench',
    config: {
      services: {
        api: {
          endpoints: [address],
          balancer: 'p2c-ewma',
          timeout: '10s',
          retry,
          // One endpoint failing everything: ejecting it would only measure panic mode.
          outlier: false,
          pool: { connections: CONCURRENCY, keepAliveTimeout: '4s', connectTimeout: '1s' },
        },
      },
    },
  });
  const client = mesh.client('api');
  try {
    return await loadPerCall(MESH_CALLS, async () => {
      const res = await client.request({ method: 'GET', path: '/' });
      await res.body.dump();
    });
  } finally {
    await mesh.close();
  }
}

const meshDefault = await meshlet(DEFAULT_RETRY);
const meshThree = await meshlet({ ...DEFAULT_RETRY, attempts: 3 });

await pool.close();
server.closeAllConnections();
server.close();

const row = (name: string, perCall: number): string =>
  `${name.padEnd(44)} ${perCall.toFixed(3).padStart(6)} requests/call   ${(perCall / baseline).toFixed(2)}x baseline`;
console.log('Backend failing 100% of calls with 503; load it receives per logical call\n');
console.log(row(`baseline: 1 attempt (${NAIVE_CALLS} calls)`, baseline));
console.log(row(`naive: p-retry, 3 attempts (${NAIVE_CALLS} calls)`, naive));
console.log(row(`meshlet default: 2 attempts + budget (${MESH_CALLS})`, meshDefault));
console.log(row(`meshlet: 3 attempts + budget (${MESH_CALLS})`, meshThree));
console.log(`\nmeshlet (3 attempts) puts ${(naive / meshThree).toFixed(2)}x less load on the failing backend than the naive loop`);
console.log(`goal: meshlet ≤ 1.25x baseline -> ${meshThree / baseline <= 1.25 && meshDefault / baseline <= 1.25 ? 'met' : 'NOT met'}`);
