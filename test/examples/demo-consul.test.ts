/**
 * `npm run demo -- --consul` as a user runs it: a child process with a small DEMO_CALLS,
 * asserting what it printed. Its KV push and its new instance must both reach the caller
 * mid-run (the push within 1 s, issue 10's goal), no call may fail through either change, and
 * the process must exit on its own (nothing left open). On an agent named by
 * CONSUL_HTTP_ADDR it must use a prefix and service of its own and leave neither behind.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConsulClient } from '../../src/consul/client.ts';
import { consulForTests } from '../support/consul.ts';
import { assertEveryCallSucceeded, assertExitedOnItsOwn, hasRow, runDemo, tableRow } from './run-demo.ts';

const CALLS = 600;

/** The milliseconds a line like `config change: applied 12.3 ms after …` printed. */
function printedMs(stdout: string, pattern: RegExp): number {
  const match = pattern.exec(stdout);
  assert.ok(match, `the demo did not print ${pattern}:\n${stdout}`);
  return Number(match[1]);
}

function withoutConsulEnv(): NodeJS.ProcessEnv {
  const { CONSUL_HTTP_ADDR: _addr, CONSUL_HTTP_TOKEN: _token, CONSUL_HTTP_SSL: _ssl, ...rest } = process.env;
  return rest;
}

describe('npm run demo -- --consul', () => {
  it('applies the KV push and the new instance mid-run with no failed call, and exits on its own', async () => {
    const run = await runDemo(['--consul'], CALLS, withoutConsulEnv());
    assertExitedOnItsOwn(run);
    const { stdout } = run;
    assert.match(stdout, /Consul: an in-process emulator/);

    assert.equal(stdout.match(/wrote 1 key with cas/g)?.length, 2, 'meshlet push wrote the initial config and the change');
    assert.match(stdout, /~ meshlet-demo\/services\/catalog \(changed\)\n(.*\n)*.*\+ {3}"hedge": \{/, "the mid-run push's diff shows hedging turned on");
    const applied = printedMs(stdout, /config change: applied ([\d.]+) ms after the write/);
    assert.ok(applied < 1000, `the KV push took ${applied} ms to apply; the goal is within 1 s`);
    assert.match(stdout, /config versions applied: v1 \(bootstrap\) → v2 \(consul:\/\/[^)]+\) → v3 \(consul:\/\/[^)]+\)$/m, 'the initial KV config and the push, each one version');

    printedMs(stdout, /new instance: in the endpoint set ([\d.]+) ms after registering/);
    printedMs(stdout, /new instance: answered its first call ([\d.]+) ms after registering/);
    const fresh = tableRow(stdout, 'fresh');
    assert.ok(fresh !== undefined && fresh.calls > 0, `the new instance answered no call:\n${stdout}`);

    for (const name of ['healthy', 'slow', 'flaky']) assert.ok(hasRow(stdout, name), `no row for the registered instance ${name}:\n${stdout}`);
    assertEveryCallSucceeded(stdout, CALLS);
    assert.match(stdout, /control: \{"source":"consul:\/\/[^"]+","status":"ok"/);
    assert.match(stdout, /discovery: \{"type":"consul".*"status":"ok".*"endpointsFrom":"consul"/);
  });

  it('on the agent named by CONSUL_HTTP_ADDR: a prefix and a service of its own, both gone when it exits', async (t) => {
    const consul = await consulForTests();
    t.after(() => consul.close());
    const env: NodeJS.ProcessEnv = { ...withoutConsulEnv(), CONSUL_HTTP_ADDR: consul.url, ...(consul.token !== undefined && { CONSUL_HTTP_TOKEN: consul.token }) };
    const run = await runDemo(['--consul'], CALLS, env);
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
