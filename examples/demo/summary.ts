/**
 * The end of every demo scenario: what the mesh did (retries, budget, hedges, ejections,
 * config versions, breaker) and each endpoint's state, from the mesh's events and state().
 */
import type { Mesh } from '../../src/index.ts';
import type { DemoBackend } from './backends.ts';

export interface MeshCounts {
  retries: number;
  budgetExhausted: number;
  ejections: number;
  hedges: number;
}

/** Counts what the summary reports, and prints each rejected config as it happens. */
export function countMeshEvents(mesh: Mesh): MeshCounts {
  const counts = { retries: 0, budgetExhausted: 0, ejections: 0, hedges: 0 };
  mesh.on('retry', () => counts.retries++);
  mesh.on('budget-exhausted', () => counts.budgetExhausted++);
  mesh.on('eject', () => counts.ejections++);
  mesh.on('hedge', () => counts.hedges++);
  mesh.on('config-rejected', (e) => console.log(`config rejected: ${e.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`));
  return counts;
}

/** `shortSource` shortens a config source for the versions line (the file demo hides its temp dir). */
export function printMeshSummary(mesh: Mesh, counts: MeshCounts, backends: readonly DemoBackend[], shortSource: (source: string) => string): void {
  const state = mesh.state() as {
    config: { history: { version: number; source: string }[] };
    services: { catalog: { endpoints: Record<string, unknown>[]; budget: unknown; breaker?: unknown } };
  };
  console.log('\nWhat the mesh did:');
  console.log(`  retries ${counts.retries}, retries refused by the budget ${counts.budgetExhausted}, hedges ${counts.hedges}`);
  const versions = state.config.history.map((h) => `v${h.version} (${shortSource(h.source)})`);
  console.log(`  ejections ${counts.ejections}; config versions applied: ${versions.join(' → ')}`);
  console.log(`  retry budget: ${JSON.stringify(state.services.catalog.budget)}`);
  if (state.services.catalog.breaker !== undefined) console.log(`  breaker: ${JSON.stringify(state.services.catalog.breaker)}`);
  console.log('  endpoints:');
  const names = new Map(backends.map((b) => [b.address, b.name]));
  for (const endpoint of state.services.catalog.endpoints) {
    const { id, ...rest } = endpoint as { id: string };
    console.log(`    ${(names.get(id) ?? id).padEnd(8)} ${JSON.stringify(rest)}`);
  }
}
