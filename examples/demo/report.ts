/**
 * The demo's output: a progress bar while it runs, then one table per endpoint and overall.
 */

export interface Sample {
  readonly backend: string;
  readonly ok: boolean;
  readonly ms: number;
}

export function progress(done: number, total: number): void {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
  if (process.stdout.isTTY) process.stdout.write(`\r${bar}`);
  else if (done === total || done % Math.ceil(total / 4) === 0) process.stdout.write(`${bar}\n`);
  if (done === total && process.stdout.isTTY) process.stdout.write('\n');
}

/** A line printed while the progress bar runs: on a terminal it replaces the bar, which the next call redraws. */
export function note(text: string): void {
  if (process.stdout.isTTY) process.stdout.write(`\r\x1b[K${text}\n`);
  else process.stdout.write(`${text}\n`);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
}

export function printTable(samples: readonly Sample[], received: ReadonlyMap<string, number>): void {
  const groups = new Map<string, Sample[]>();
  for (const s of samples) {
    const list = groups.get(s.backend) ?? [];
    list.push(s);
    groups.set(s.backend, list);
  }
  const widths = [12, 9, 9, 9, 9, 9];
  console.log(row(['answered by', 'attempts', 'calls', 'success', 'p50 ms', 'p99 ms'], widths));
  const line = (name: string, list: readonly Sample[], attempts: string): void => {
    const ms = list.map((s) => s.ms).sort((a, b) => a - b);
    const ok = list.filter((s) => s.ok).length;
    const success = list.length === 0 ? '-' : `${((ok / list.length) * 100).toFixed(1)}%`;
    const p = (q: number): string => (list.length === 0 ? '-' : percentile(ms, q).toFixed(1));
    console.log(row([name, attempts, String(list.length), success, p(50), p(99)], widths));
  };
  for (const [name, count] of received) line(name, groups.get(name) ?? [], String(count));
  const failed = groups.get('(error)');
  if (failed !== undefined) line('(error)', failed, '-');
  const total = [...received.values()].reduce((a, b) => a + b, 0);
  line('overall', samples, String(total));
}
