/**
 * The canary scenario (`npm run demo -- --canary`, issue 11): 'catalog' has two v1 instances
 * and one v2, told apart by their endpoint tags; the config's `subsets` name them and one route
 * sends 10% of calls to v2. Halfway through, the watched file is edited to send 50% (a push, as
 * an operator would ramp a canary), and the mesh applies it without a restart and without
 * failing a call. At the end: the split per subset before and after the push, and what
 * state() says of the route.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMesh } from '../../src/index.ts';
import { startDemoBackend } from './backends.ts';
import { catalogPolicy } from './policy.ts';
import type { DemoObservability } from './observability.ts';
import { printTable, type Sample } from './report.ts';
import { runTraffic } from './traffic.ts';

/** The canary's share of traffic before and after the mid-run push, in percent. */
export const CANARY_STEPS = [10, 50] as const;

export async function runCanaryDemo(total: number, concurrency: number, observability: DemoObservability): Promise<void> {
  const backends = [await startDemoBackend('v1-a', 'healthy'), await startDemoBackend('v1-b', 'healthy'), await startDemoBackend('v2', 'healthy')];
  const subsetOf = new Map(backends.map((b) => [b.name, b.name.startsWith('v2') ? 'v2' : 'v1']));
  const endpoints = backends.map((b) => ({ address: b.address, tags: [subsetOf.get(b.name)!] }));
  const config = (canary: number): string =>
    JSON.stringify(
      {
        services: {
          catalog: {
            ...catalogPolicy({ endpoints }),
            subsets: { v1: { tags: ['v1'] }, v2: { tags: ['v2'] } },
            routes: [{ name: 'canary', to: [{ subset: 'v1', weight: 100 - canary }, { subset: 'v2', weight: canary }] }],
          },
        },
      },
      null,
      2,
    );
  const dir = await mkdtemp(join(tmpdir(), 'meshlet-canary-'));
  const configFile = join(dir, 'mesh.json');
  await writeFile(configFile, config(CANARY_STEPS[0]));
  const mesh = await createMesh({ service: 'storefront', control: `file:${configFile}` });
  observability.attach(mesh);
  mesh.on('config-rejected', (e) => console.log(`config rejected: ${e.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`));

  console.log(`meshlet demo (canary): ${total} calls to 'catalog' (v1-a, v1-b in subset v1; v2 in subset v2) at concurrency ${concurrency}`);
  console.log(`route 'canary' sends ${CANARY_STEPS[0]}% to v2; halfway, ${configFile.replace(dir, '…')} is edited to send ${CANARY_STEPS[1]}%\n`);

  // A call counts in the step whose config was in force when it ended.
  const byStep: Sample[][] = [[], []];
  let step = 0;
  const pushed = new Promise<void>((resolve) => {
    const dispose = mesh.on('config', (event) => {
      if (!event.changedServices.includes('catalog')) return;
      step = 1;
      dispose();
      resolve();
    });
  });
  const samples = await runTraffic(mesh, {
    total,
    concurrency,
    milestones: [
      {
        at: total / 2,
        run: async () => {
          await writeFile(configFile, config(CANARY_STEPS[1]));
          await pushed;
        },
      },
    ],
    onSample: (sample) => byStep[step]!.push(sample),
  });

  console.log('\nSplit per subset (calls answered by each subset, and its share):\n');
  console.log(`${'subset'.padEnd(8)}${CANARY_STEPS.map((c) => `at ${c}%`.padStart(20)).join('')}`);
  for (const subset of ['v1', 'v2']) {
    const cells = byStep.map((list) => {
      const count = list.filter((s) => subsetOf.get(s.backend) === subset).length;
      return `${count} (${list.length === 0 ? '-' : ((count / list.length) * 100).toFixed(1)}%)`.padStart(20);
    });
    console.log(`${subset.padEnd(8)}${cells.join('')}`);
  }
  console.log(`${'total'.padEnd(8)}${byStep.map((list) => String(list.length).padStart(20)).join('')}`);

  console.log('\nPer endpoint ("attempts": requests the instance received; "calls": logical calls it answered):\n');
  printTable(samples, new Map(backends.map((b) => [b.name, b.received])));
  const state = mesh.state() as { services: { catalog: { routes: unknown } } };
  console.log(`\nstate().services.catalog.routes: ${JSON.stringify(state.services.catalog.routes)}`);

  await observability.holdIfAsked();
  await mesh.close();
  await Promise.all(backends.map((b) => b.close()));
  await rm(dir, { recursive: true, force: true });
}
