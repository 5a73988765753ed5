/**
 * The demo's traffic, the same for every scenario: `total` GETs to 'catalog' from
 * `concurrency` workers, each sample saying who answered. A milestone runs once, in the
 * worker that issues call number `at`, before that call: how a scenario changes something
 * mid-run while the other workers keep calling.
 */
import { isMeshError, type Mesh } from '../../src/index.ts';
import { progress, type Sample } from './report.ts';

export interface Milestone {
  readonly at: number;
  readonly run: () => Promise<void>;
}

export interface TrafficOptions {
  readonly total: number;
  readonly concurrency: number;
  readonly milestones?: readonly Milestone[];
  /** Sees each sample as its call ends (the Consul demo spots the new instance's first call). */
  readonly onSample?: (sample: Sample) => void;
}

export async function runTraffic(mesh: Mesh, options: TrafficOptions): Promise<Sample[]> {
  const { total, concurrency } = options;
  const pending = [...(options.milestones ?? [])].sort((a, b) => a.at - b.at);
  const samples: Sample[] = [];
  let issued = 0;
  async function worker(): Promise<void> {
    while (issued < total) {
      issued++;
      while (pending.length > 0 && issued >= pending[0]!.at) await pending.shift()!.run();
      const started = performance.now();
      let sample: Sample;
      try {
        const res = await mesh.client('catalog').request({ method: 'GET', path: '/items/42' });
        await res.body.dump();
        sample = { backend: String(res.headers['x-backend'] ?? '?'), ok: res.statusCode < 500, ms: performance.now() - started };
      } catch (error) {
        sample = { backend: '(error)', ok: false, ms: performance.now() - started };
        if (!isMeshError(error)) throw error;
      }
      samples.push(sample);
      options.onSample?.(sample);
      progress(samples.length, total);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return samples;
}
