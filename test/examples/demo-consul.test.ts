/**
 * `npm run demo -- --consul` as a user runs it: a child process with a small DEMO_CALLS,
 * asserting what it printed. Its KV push and its new instance must both reach the caller
 * mid-run (the push within 1 s, issue 10's goal), no call may fail through either change, and
 * the process must exit on its own (nothing left open). On an agent named by
 * CONSUL_HTTP_ADDR it must use a prefix and service of its own and leave neither behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { ConsulClient } from '../../src/consul/client.ts';
import { consulForTests } from '../support/consul.ts';

const DEMO = new URL('../../examples/demo/main.ts', import.meta.url).pathname;
const CALLS = 600;
/** The demo takes about 1 s at this size; past this it did not exit on its own. */
const KILLED_AFTER_MS = 45_000;

interface DemoRun {
  readonly stdout: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

async function runDemo(env: NodeJS.ProcessEnv): Promise<DemoRun> {
  const child = spawn(process.execPath, [DEMO, '--consul'], { env: { ...env, DEMO_CALLS: String(CALLS) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const killer = setTimeout(() => child.kill('SIGKILL'), KILLED_AFTER_MS);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  clearTimeout(killer);
  return { stdout, stderr, code, signal };
}

function assertExitedOnItsOwn(run: DemoRun): void {
  assert.equal(run.signal, null, `the demo was still running after ${KILLED_AFTER_MS} ms: something held the process open\n${run.stdout}\n${run.stderr}`);
  assert.equal(run.code, 0, `the demo exited with ${run.code}\n${run.stdout}\n${run.stderr}`);
}

/** The milliseconds a line like `config change: applied 12.3 ms after …` printed. */
function printedMs(stdout: string, pattern: RegExp): number {
  const match = pattern.exec(stdout);
  assert.ok(match, `the demo did not print ${pattern}:\n${stdout}`);
  return Number(match[1]);
}

/** The per-endpoint table's row for `name`: attempts, calls, success %. */
function tableRow(stdout: string, name: string): { attempts: number; calls: number; success: number } | undefined {
  const match = new RegExp(`^${name}\\s+(\\d+)\\s+(\\d+)\\s+([\\d.]+)%`, 'm').exec(stdout);
  return match === null ? undefined : { attempts: Number(match[1]), calls: Number(match[2]), success: Number(match[3]) };
}

function withoutConsulEnv(): NodeJS.ProcessEnv {
  const { CONSUL_HTTP_ADDR: _addr, CONSUL_HTTP_TOKEN: _token, CONSUL_HTTP_SSL: _ssl, ...rest } = process.env;
  return rest;
}

describe('npm run demo -- --consul', () => {
  it('applies the KV push and the new instance mid-run with no failed call, and exits on its own', async () => {
    const run = await runDemo(withoutConsulEnv());
    assertExitedOnItsOwn(run);
    const { stdout } = run;
    assert.match(stdout, /Consul: an in-process emulator/);

    const applied = printedMs(stdout, /config change: applied ([\d.]+) ms after the write/);
    assert.ok(applied < 1000, `the KV push took ${applied} ms to apply; the goal is within 1 s`);
    assert.match(stdout, /config versions applied: v1 \(bootstrap\) → v2 \(consul:\/\/[^)]+\) → v3 \(consul:\/\/[^)]+\)$/m, 'the initial KV config and the push, each one version');

    printedMs(stdout, /new instance: in the endpoint set ([\d.]+) ms after registering/);
    printedMs(stdout, /new instance: answered its first call ([\d.]+) ms after registering/);
    const fresh = tableRow(stdout, 'fresh');
    assert.ok(fresh !== undefined && fresh.calls > 0, `the new instance answered no call:\n${stdout}`);

    for (const name of ['healthy', 'slow', 'flaky']) assert.ok(tableRow(stdout, name) !== undefined, `no row for the registered instance ${name}:\n${stdout}`);
    assert.equal(tableRow(stdout, '\\(error\\)'), undefined, `some calls failed with a MeshError:\n${stdout}`);
    const overall = tableRow(stdout, 'overall');
    assert.deepEqual([overall?.calls, overall?.success], [CALLS, 100], 'every call answered, and successfully');
    assert.match(stdout, /control: \{"source":"consul:\/\/[^"]+","status":"ok"/);
    assert.match(stdout, /discovery: \{"type":"consul".*"status":"ok".*"endpointsFrom":"consul"/);
  });

  it('on the agent named by CONSUL_HTTP_ADDR: a prefix and a service of its own, both gone when it exits', async (t) => {
    const consul = await consulForTests();
    t.after(() => consul.close());
    const env: NodeJS.ProcessEnv = { ...withoutConsulEnv(), CONSUL_HTTP_ADDR: consul.url, ...(consul.token !== undefined && { CONSUL_HTTP_TOKEN: consul.token }) };
    const run = await runDemo(env);
    assertExitedOnItsOwn(run);
    assert.match(run.stdout, /Consul: the agent at http:\/\/[^ ]+ \(CONSUL_HTTP_ADDR\)/);
    printedMs(run.stdout, /config change: applied ([\d.]+) ms after the write/);
    printedMs(run.stdout, /new instance: answered its first call ([\d.]+) ms after registering/);

    const prefix = /^config: consul:\/\/[^/]+\/(\S+)/m.exec(run.stdout)?.[1];
    const service = /^instances: Consul service '([^']+)'/m.exec(run.stdout)?.[1];
    assert.match(prefix ?? '', /^meshlet-demo-\d+$/, 'a prefix of its own, never the fleet default');
    assert.match(service ?? '', /^demo-catalog-\d+$/);
    const client = new ConsulClient({ url: consul.url, ...(consul.token !== undefined && { token: consul.token }) });
    t.after(() => client.close());
    assert.deepEqual((await client.kvList(`${prefix}/`)).value, [], 'the demo deleted its prefix');
    const services = Object.keys((await client.catalogServices()).value);
    assert.ok(!services.includes(service!), `the demo's instances are still registered: ${services.join(', ')}`);
  });
});
