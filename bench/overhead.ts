/**
 * What meshlet costs on the hot path, against what it replaces (issue 2). The same loopback
 * backend (its own process) is called three ways in one run, in alternating rounds after a
 * warm-up, so machine noise hits every variant alike:
 *   - bare undici `Pool.request` (the baseline every ratio is against),
 *   - `mesh.client('api').request` with the default stack and no tracing SDK,
 *   - bare undici through a local HAProxy hop (the sidecar the in-process design avoids).
 * Figures: throughput at 32 concurrent callers and p50 latency with 1 caller.
 * Goal: mesh >= 0.90x bare throughput and <= 10 us added p50. Never fails on timing.
 * Run: node bench/overhead.ts   (about 30-40 s; set BENCH_ROUNDS / BENCH_ROUND_MS to change)
 */
import { Pool } from 'undici';
import { type Call, latencies, throughput } from './support/driver.ts';
import { ensureHaproxy, type Running, startHaproxy, startTinyServer } from './support/processes.ts';
import { formatRatio, median } from './support/stats.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 1000);
const CONCURRENCY = 32;
const LATENCY_CALLS = 2000;
const CONNECTIONS = 64; // the mesh's default pool size, so the baseline has the same sockets

interface Variant {
  readonly name: string;
  readonly call: Call;
  readonly throughputs: number[];
  readonly cpuPerCall: number[];
  readonly p50s: number[];
}

function variant(name: string, call: Call): Variant {
  return { name, call, throughputs: [], cpuPerCall: [], p50s: [] };
}

function undiciCall(pool: Pool): Call {
  return async () => {
    const res = await pool.request({ method: 'GET', path: '/' });
    await res.body.dump();
  };
}

async function meshVariant(port: number): Promise<{ variant: Variant; close: () => Promise<void> } | string> {
  try {
    const { createMesh } = await import('../src/index.ts');
    const mesh = await createMesh({ service: 'bench', config: { services: { api: { endpoints: [`127.0.0.1:${port}`] } } } });
    const client = mesh.client('api');
    const call: Call = async () => {
      const res = await client.request({ method: 'GET', path: '/' });
      await res.body.dump();
    };
    await call(); // fail here, not mid-run, if the mesh cannot reach the backend
    return { variant: variant('meshlet', call), close: () => mesh.close() };
  } catch (error) {
    return `meshlet variant skipped: ${(error as Error).message}`;
  }
}

async function main(): Promise<void> {
  const backend = await startTinyServer();
  const closers: (() => Promise<void>)[] = [backend.stop];
  try {
    const barePool = new Pool(`http://127.0.0.1:${backend.port}`, { connections: CONNECTIONS });
    closers.unshift(() => barePool.close());
    const variants = [variant('bare undici', undiciCall(barePool))];

    const mesh = await meshVariant(backend.port);
    if (typeof mesh === 'string') console.log(mesh);
    else {
      variants.push(mesh.variant);
      closers.unshift(mesh.close);
    }

    const haproxyBinary = ensureHaproxy();
    let haproxy: Running | undefined;
    if (haproxyBinary === undefined) console.log('haproxy variant skipped: no haproxy binary');
    else {
      haproxy = await startHaproxy(haproxyBinary, backend.port);
      closers.unshift(haproxy.stop);
      const proxyPool = new Pool(`http://127.0.0.1:${haproxy.port}`, { connections: CONNECTIONS });
      closers.unshift(() => proxyPool.close());
      variants.push(variant('undici via haproxy', undiciCall(proxyPool)));
    }

    // Warm-up: JIT, connection pools and HAProxy's backend connections, untimed.
    for (const v of variants) {
      await throughput(v.call, CONCURRENCY, 500);
      await latencies(v.call, 300, 500);
    }
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order each round so no variant always runs right after another's GC debt.
      const order = round % 2 === 0 ? variants : [...variants].reverse();
      for (const v of order) {
        const result = await throughput(v.call, CONCURRENCY, ROUND_MS);
        v.throughputs.push(result.perSecond);
        v.cpuPerCall.push(result.cpuPerCallUs);
        v.p50s.push(median(await latencies(v.call, LATENCY_CALLS, ROUND_MS)));
      }
    }
    report(variants);
  } finally {
    for (const close of closers) await close().catch(() => {});
  }
}

function report(variants: readonly Variant[]): void {
  const base = variants[0]!;
  const baseThroughput = median(base.throughputs);
  const baseP50 = median(base.p50s);
  console.log(`\noverhead: ${ROUNDS} alternating rounds of ${ROUND_MS} ms, ${CONCURRENCY} callers for throughput, 1 caller for p50 (median of rounds)`);
  const baseCpu = median(base.cpuPerCall);
  console.log('variant              throughput      ratio    p50 (1 caller)   ratio    added p50   caller CPU/call   ratio');
  for (const v of variants) {
    const t = median(v.throughputs);
    const p50 = median(v.p50s);
    console.log(
      `${v.name.padEnd(20)} ${`${Math.round(t)} req/s`.padStart(13)}  ${formatRatio(t, baseThroughput).padStart(7)}   ${`${p50.toFixed(1)} us`.padStart(12)}   ${formatRatio(p50, baseP50).padStart(7)}   ${`${(p50 - baseP50).toFixed(1)} us`.padStart(9)}   ${`${median(v.cpuPerCall).toFixed(1)} us`.padStart(15)}   ${formatRatio(median(v.cpuPerCall), baseCpu).padStart(6)}`,
    );
  }
  const mesh = variants.find((v) => v.name === 'meshlet');
  if (mesh !== undefined) {
    const ratio = median(mesh.throughputs) / baseThroughput;
    const added = median(mesh.p50s) - baseP50;
    console.log(`\ngoal: meshlet >= 0.90x bare throughput (${ratio >= 0.9 ? 'met' : 'NOT met'}: ${ratio.toFixed(3)}x), <= 10 us added p50 (${added <= 10 ? 'met' : 'NOT met'}: ${added.toFixed(1)} us)`);
  }
}

await main();
