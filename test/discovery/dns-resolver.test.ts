/**
 * DNS discovery: re-resolution on the clock, the last good list kept through failures and
 * empty answers, the answer cap, and the real node:dns paths (`localhost` through the
 * system resolver, SRV through c-ares against a tiny DNS server on loopback).
 */
import assert from 'node:assert/strict';
import type { SrvRecord } from 'node:dns';
import { describe, it } from 'node:test';
import { ManualClock, systemClock } from '../../src/core/clock.ts';
import type { EndpointAddress } from '../../src/core/endpoint.ts';
import { DnsResolver, type DnsLookups, type DnsResolverOptions, systemDns } from '../../src/discovery/dns-resolver.ts';
import { startSrvServer } from './srv-server.ts';

class Recorder {
  updates: string[][] = [];
  weights: number[][] = [];
  errors: Error[] = [];
  readonly update = (list: readonly EndpointAddress[]): void => {
    this.updates.push(list.map((a) => a.id));
    this.weights.push(list.map((a) => a.weight));
  };
  readonly error = (error: Error): void => {
    this.errors.push(error);
  };
}

const A_OPTIONS: DnsResolverOptions = { name: 'api.test', port: 8080, record: 'a', interval: 1000, protocol: 'http' };

/** Lets the resolver's promise chain (an already-settled injected lookup) run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function scripted(answers: (string[] | Error)[]): DnsLookups & { calls: number } {
  const lookups = {
    calls: 0,
    lookup: async (_name: string) => {
      const next = answers[Math.min(lookups.calls++, answers.length - 1)]!;
      if (next instanceof Error) throw next;
      return next.map((address) => ({ address }));
    },
    resolveSrv: async (): Promise<SrvRecord[]> => assert.fail('not an SRV test'),
  };
  return lookups;
}

function dnsError(code: string): Error {
  return Object.assign(new Error(`queryA ${code}`), { code });
}

describe('DnsResolver (injected lookups, manual clock)', () => {
  it('re-resolves every interval and reports only changes', async () => {
    const clock = new ManualClock();
    const lookups = scripted([['10.0.0.2', '10.0.0.1'], ['10.0.0.1', '10.0.0.2'], ['10.0.0.1', '10.0.0.3']]);
    const resolver = new DnsResolver(A_OPTIONS, clock, lookups);
    const recorder = new Recorder();
    await resolver.start(recorder);
    assert.deepEqual(recorder.updates, [['10.0.0.1:8080', '10.0.0.2:8080']]);
    clock.advance(999);
    await settle();
    assert.equal(lookups.calls, 1, 'not before the interval');
    clock.advance(1);
    await settle();
    assert.equal(lookups.calls, 2);
    assert.equal(recorder.updates.length, 1, 'same members in another order is not a change');
    clock.advance(1000);
    await settle();
    assert.deepEqual(recorder.updates.at(-1), ['10.0.0.1:8080', '10.0.0.3:8080']);
    await resolver.close();
  });

  it('keeps the last good list through failures and empty answers, then recovers', async () => {
    const clock = new ManualClock();
    const lookups = scripted([['10.0.0.1'], dnsError('EAI_AGAIN'), dnsError('ENOTFOUND'), [], ['10.0.0.9']]);
    const resolver = new DnsResolver(A_OPTIONS, clock, lookups);
    const recorder = new Recorder();
    await resolver.start(recorder);
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await settle();
    }
    assert.deepEqual(recorder.updates, [['10.0.0.1:8080']], 'never update([]) because of a failure');
    assert.equal(recorder.errors.length, 3);
    assert.match(recorder.errors[0]!.message, /EAI_AGAIN.*keeping the last good/);
    assert.match(recorder.errors[2]!.message, /no usable records/);
    clock.advance(1000);
    await settle();
    assert.deepEqual(recorder.updates.at(-1), ['10.0.0.9:8080']);
    await resolver.close();
  });

  it('regression: the same answer after a failure confirms the list, so the failure no longer shows', async () => {
    const clock = new ManualClock();
    const resolver = new DnsResolver(A_OPTIONS, clock, scripted([['10.0.0.1'], dnsError('EAI_AGAIN'), ['10.0.0.1']]));
    const recorder = new Recorder();
    let confirmed = 0;
    await resolver.start({ update: recorder.update, error: recorder.error, confirmed: () => confirmed++ });
    clock.advance(1000);
    await settle();
    assert.equal(recorder.errors.length, 1);
    assert.equal(confirmed, 0);
    clock.advance(1000);
    await settle();
    assert.equal(confirmed, 1, 'the unchanged answer is reported as confirmed');
    assert.equal(recorder.updates.length, 1, 'and is not an update');
    await resolver.close();
  });

  it('close() stops re-resolution', async () => {
    const clock = new ManualClock();
    const lookups = scripted([['10.0.0.1']]);
    const resolver = new DnsResolver(A_OPTIONS, clock, lookups);
    await resolver.start(new Recorder());
    await resolver.close();
    clock.advance(10_000);
    await settle();
    assert.equal(lookups.calls, 1);
  });

  it('caps the answer and defaults the port by protocol', async () => {
    const many = Array.from({ length: 200 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
    const recorder = new Recorder();
    const capped = new DnsResolver({ ...A_OPTIONS, port: undefined, protocol: 'https', maxAnswers: 10 }, new ManualClock(), scripted([many]));
    await capped.start(recorder);
    assert.equal(recorder.updates[0]!.length, 10);
    assert.match(recorder.updates[0]![0]!, /^https:\/\/10\.0\.0\.\d+:443$/);
    await capped.close();
  });
});

describe('DnsResolver (real node:dns)', () => {
  it('resolves localhost through the system resolver and re-resolves on the clock', async () => {
    const real = systemDns();
    let calls = 0;
    const counting: DnsLookups = {
      lookup: (name) => {
        calls++;
        return real.lookup(name);
      },
      resolveSrv: real.resolveSrv,
    };
    const resolver = new DnsResolver({ ...A_OPTIONS, name: 'localhost', interval: 20 }, systemClock, counting);
    const recorder = new Recorder();
    await resolver.start(recorder);
    assert.equal(recorder.errors.length, 0);
    assert.ok(recorder.updates[0]!.some((id) => id === '127.0.0.1:8080' || id === '[::1]:8080'), String(recorder.updates[0]));
    while (calls < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    await resolver.close();
    const after = calls;
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(calls, after, 'no lookups after close');
  });

  it('resolves SRV from a real DNS server: lowest priority, weights and ports from the records', async () => {
    const dns = await startSrvServer();
    try {
      dns.records.set('_http._tcp.api.test', [
        { priority: 10, weight: 5, port: 9001, target: 'a.api.test' },
        { priority: 10, weight: 0, port: 9002, target: 'b.api.test' },
        { priority: 20, weight: 9, port: 9003, target: 'backup.api.test' },
      ]);
      const clock = new ManualClock();
      const resolver = new DnsResolver({ name: '_http._tcp.api.test', port: undefined, record: 'srv', interval: 1000, protocol: 'http' }, clock, systemDns([dns.server]));
      const recorder = new Recorder();
      await resolver.start(recorder);
      assert.deepEqual(recorder.updates, [['a.api.test:9001', 'b.api.test:9002']]);
      assert.deepEqual(recorder.weights, [[5, 1]]);

      dns.records.delete('_http._tcp.api.test'); // NXDOMAIN: last good kept
      clock.advance(1000);
      while (recorder.errors.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.match(recorder.errors[0]!.message, /ENOTFOUND/);
      assert.equal(recorder.updates.length, 1);

      dns.records.set('_http._tcp.api.test', [{ priority: 1, weight: 2, port: 9004, target: 'c.api.test.' }]);
      clock.advance(1000);
      while (recorder.updates.length === 1) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.deepEqual(recorder.updates.at(-1), ['c.api.test:9004']);
      await resolver.close();
    } finally {
      await dns.close();
    }
  });
});
