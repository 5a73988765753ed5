/**
 * The file scenario (`npm run demo`): three instances of a "catalog" service on loopback —
 * one healthy, one slow, one failing half its calls — called a few thousand times through a
 * mesh configured from a watched file. Halfway through, the file is edited (hedging turned
 * on) and the mesh picks it up without a restart. At the end: who answered, how fast, and
 * what the mesh did about it (retries, ejections, budget, breaker). Then the gRPC leg: the
 * same mesh calls two grpc-js instances of 'inventory' through mesh.grpc() (grpc-leg.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMesh } from '../../src/index.ts';
import { startDemoBackends } from './backends.ts';
import { startGrpcLeg } from './grpc-leg.ts';
import { catalogPolicy, HEDGING_ON } from './policy.ts';
import type { DemoObservability } from './observability.ts';
import { printTable } from './report.ts';
import { countMeshEvents, printMeshSummary } from './summary.ts';
import { runTraffic } from './traffic.ts';

export async function runFileDemo(total: number, concurrency: number, observability: DemoObservability): Promise<void> {
  const backends = await startDemoBackends();
  const grpcLeg = await startGrpcLeg();
  const dir = await mkdtemp(join(tmpdir(), 'meshlet-demo-'));
  const configFile = join(dir, 'mesh.json');
  const config = (change: Record<string, unknown>): string =>
    JSON.stringify({ services: { catalog: catalogPolicy({ endpoints: backends.map((b) => b.address) }, change), inventory: grpcLeg.policy } }, null, 2);
  await writeFile(configFile, config({}));

  const mesh = await createMesh({ service: 'storefront', control: `file:${configFile}` });
  const counts = countMeshEvents(mesh);
  observability.attach(mesh);

  console.log(`meshlet demo: ${total} calls to 'catalog' (healthy, slow, flaky) at concurrency ${concurrency}`);
  console.log(`config: ${configFile} (edited halfway to turn hedging on)\n`);

  const samples = await runTraffic(mesh, {
    total,
    concurrency,
    milestones: [{ at: total / 2, run: () => writeFile(configFile, config(HEDGING_ON)) }],
  });

  console.log('\nPer endpoint ("attempts": requests the instance received; "calls": logical calls it answered):\n');
  printTable(samples, new Map(backends.map((b) => [b.name, b.received])));
  printMeshSummary(mesh, counts, backends, (source) => source.replace(dir, '…'));
  await grpcLeg.run(mesh, Math.ceil(total / 10), concurrency);

  await observability.holdIfAsked();
  await mesh.close();
  await Promise.all(backends.map((b) => b.close()));
  await grpcLeg.close();
  await rm(dir, { recursive: true, force: true });
}
