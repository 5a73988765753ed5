/**
 * The demo's observability (issue 12): it prints the dashboard's and the metrics' URLs; with
 * `--hold` both stay up after the run (the mesh's dashboard data and the SDK's Prometheus
 * text, from the run's calls) until SIGINT, on which it exits 0; without it the process still
 * ends on its own (the page server must not hold it open).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { it } from 'node:test';
import { eventually } from '../support/waits.ts';
import { assertExitedOnItsOwn, runDemo } from './run-demo.ts';

const DEMO = new URL('../../examples/demo/main.ts', import.meta.url).pathname;
const CALLS = 200;

it('npm run demo prints the dashboard and metrics URLs and still exits on its own', async () => {
  const run = await runDemo([], CALLS);
  assertExitedOnItsOwn(run);
  assert.match(run.stdout, /^dashboard: http:\/\/127\.0\.0\.1:\d+\/admin\/$/m);
  assert.match(run.stdout, /^metrics: {3}http:\/\/127\.0\.0\.1:\d+\/metrics/m);
  assert.match(run.stdout, /^spans made \(counted, not sent\): [1-9]\d*$/m);
});

it('npm run demo -- --hold keeps the dashboard and the metrics up after the run, until SIGINT', { timeout: 45_000 }, async () => {
  const child = spawn(process.execPath, [DEMO, '--hold'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEMO_CALLS: String(CALLS) } });
  const killer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  let stdout = '';
  child.stderr.resume();
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (code, signal) => resolve([code, signal])));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        if (stdout.includes('Ctrl-C to stop')) resolve();
      });
      exited.then(() => reject(new Error(`the demo exited before holding:\n${stdout}`)));
    });
    const base = /^dashboard: (http:\/\/127\.0\.0\.1:\d+)\/admin\/$/m.exec(stdout)![1]!;
    // The history shows whole seconds: the run's last one appears once it has ended.
    await eventually(async () => {
      const state = (await (await fetch(`${base}/admin/state.json`)).json()) as { services: { catalog: { stats: { history: { calls: number[] } } | null } } };
      return (state.services.catalog.stats?.history.calls.reduce((a, b) => a + b, 0) ?? 0) === CALLS;
    }, 'the run\'s calls on the dashboard', 3000);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^# TYPE \S+ /m, 'Prometheus text from the SDK');
    assert.match(metrics, /meshlet|http_client_request_duration/, 'meshlet\'s own instruments in it');
    child.kill('SIGINT');
    const [code, signal] = await exited;
    assert.deepEqual([code, signal], [0, null], stdout);
  } finally {
    clearTimeout(killer);
    child.kill('SIGKILL');
  }
});
