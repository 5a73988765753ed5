/**
 * The meshlet demo (`npm run demo`): three instances of a "catalog" service on loopback —
 * one healthy, one slow, one failing half its calls — called a few thousand times through a
 * mesh configured from a watched file. Halfway through, the file is edited (hedging turned
 * on) and the mesh picks it up without a restart. At the end: who answered, how fast, and
 * what the mesh did about it (retries, ejections, budget, breaker).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMesh, isMeshError } from '../../src/index.ts';
import { startDemoBackends } from './backends.ts';
import { printTable, progress, type Sample } from './report.ts';

const TOTAL_CALLS = Number(process.env.DEMO_CALLS ?? 3000);
const CONCURRENCY = 16;

const backends = await startDemoBackends();
const dir = await mkdtemp(join(tmpdir(), 'meshlet-demo-'));
const configFile = join(dir, 'mesh.json');
const catalog = (extra: Record<string, unknown>): string =>
  JSON.stringify(
    {
      services: {
        catalog: {
          endpoints: backends.map((b) => b.address),
          timeout: '1s',
          retry: { attempts: 3, on: ['connect-error', 'reset', '502', '503', '504'] },
          breaker: { errorRate: 0.5, minRequests: 20, window: '10s', openFor: '2s' },
          outlier: { consecutiveFailures: 5, ejectFor: '2s' },
          ...extra,
        },
      },
    },
    null,
    2,
  );
await writeFile(configFile, catalog({}));

const mesh = await createMesh({ service: 'storefront', control: `file:${configFile}` });
const counts = { retries: 0, budgetExhausted: 0, ejections: 0, hedges: 0 };
mesh.on('retry', () => counts.retries++);
mesh.on('budget-exhausted', () => counts.budgetExhausted++);
mesh.on('eject', () => counts.ejections++);
mesh.on('hedge', () => counts.hedges++);
mesh.on('config-rejected', (e) => console.log(`config rejected: ${e.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`));

console.log(`meshlet demo: ${TOTAL_CALLS} calls to 'catalog' (healthy, slow, flaky) at concurrency ${CONCURRENCY}`);
console.log(`config: ${configFile} (edited halfway to turn hedging on)\n`);

const samples: Sample[] = [];
let issued = 0;
let edited = false;
async function worker(): Promise<void> {
  while (issued < TOTAL_CALLS) {
    issued++;
    if (!edited && issued >= TOTAL_CALLS / 2) {
      edited = true;
      await writeFile(configFile, catalog({ hedge: { after: 'p95', maxExtraLoad: 0.05 } }));
    }
    const started = performance.now();
    try {
      const res = await mesh.client('catalog').request({ method: 'GET', path: '/items/42' });
      await res.body.dump();
      const backend = String(res.headers['x-backend'] ?? '?');
      samples.push({ backend, ok: res.statusCode < 500, ms: performance.now() - started });
    } catch (error) {
      samples.push({ backend: '(error)', ok: false, ms: performance.now() - started });
      if (!isMeshError(error)) throw error;
    }
    progress(samples.length, TOTAL_CALLS);
  }
}
await Promise.all(Array.from({ length: CONCURRENCY }, worker));

console.log('\nPer endpoint ("attempts": requests the instance received; "calls": logical calls it answered):\n');
printTable(samples, new Map(backends.map((b) => [b.name, b.received])));

const state = mesh.state() as {
  config: { history: { version: number; source: string }[] };
  services: { catalog: { endpoints: Record<string, unknown>[]; budget: unknown; breaker?: unknown } };
};
console.log('\nWhat the mesh did:');
console.log(`  retries ${counts.retries}, retries refused by the budget ${counts.budgetExhausted}, hedges ${counts.hedges}`);
const versions = state.config.history.map((h) => `v${h.version} (${h.source.replace(dir, '…')})`);
console.log(`  ejections ${counts.ejections}; config versions applied: ${versions.join(' → ')}`);
console.log(`  retry budget: ${JSON.stringify(state.services.catalog.budget)}`);
if (state.services.catalog.breaker !== undefined) console.log(`  breaker: ${JSON.stringify(state.services.catalog.breaker)}`);
console.log('  endpoints:');
const names = new Map(backends.map((b) => [b.address, b.name]));
for (const endpoint of state.services.catalog.endpoints) {
  const { id, ...rest } = endpoint as { id: string };
  console.log(`    ${(names.get(id) ?? id).padEnd(8)} ${JSON.stringify(rest)}`);
}

await mesh.close();
await Promise.all(backends.map((b) => b.close()));
await rm(dir, { recursive: true, force: true });
