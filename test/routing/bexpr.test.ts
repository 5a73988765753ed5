import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileBexpr } from '../../src/routing/bexpr.ts';

// Shaped as GET /v1/health/service/:name answers (CONSUL.md §2.1, HEALTHDOC sample).
const redis = {
  Node: { ID: 'n-1', Node: 'foobar', Address: '10.1.10.12', Datacenter: 'dc1', Meta: { instance_type: 't2.medium' } },
  Service: { ID: 'redis', Service: 'redis', Tags: ['primary'], Address: '10.1.10.12', Meta: { redis_version: '4.0' }, Port: 8000, Weights: { Passing: 10, Warning: 1 } },
  Checks: [
    { CheckID: 'service:redis', Status: 'passing', ServiceTags: ['primary'] },
    { CheckID: 'serfHealth', Status: 'passing', ServiceTags: [] },
  ],
};
const canary = { ...redis, Service: { ...redis.Service, ID: 'redis-2', Tags: ['canary', 'v2'], Meta: { redis_version: '5.0', version: 'v2' } }, Checks: [{ CheckID: 'serfHealth', Status: 'warning', ServiceTags: [] }] };

function holds(expression: string, entry: unknown): boolean {
  const compiled = compileBexpr(expression);
  assert.ok(compiled.ok, compiled.ok ? '' : compiled.message);
  return compiled.predicate(entry);
}

function error(expression: string): { offset: number; message: string } {
  const compiled = compileBexpr(expression);
  assert.ok(!compiled.ok, `${expression} compiled`);
  return compiled;
}

test('== and != compare as the field type: strings exactly, ints and bools parsed', () => {
  assert.equal(holds('Service.Service == redis', redis), true);
  assert.equal(holds('Service.Service == "Redis"', redis), false);
  assert.equal(holds('Service.Port == 8000', redis), true);
  assert.equal(holds('Service.Port != 8000', redis), false);
  assert.equal(holds('Service.Weights.Passing == 10', redis), true);
  assert.equal(holds('Node.Node == `foobar`', redis), true);
});

test('the resolver subset filters of the APICETEST "subsets with failover" body select by Service.Meta.version', () => {
  assert.equal(holds('Service.Meta.version == v2', canary), true);
  assert.equal(holds('Service.Meta.version == v1', canary), false);
  assert.equal(holds('Service.Meta.version == v1', redis), false, 'a missing meta key reads as "", not an error');
  assert.equal(holds('Service.Meta.version != v1', redis), true);
  assert.equal(holds('Service.Meta["redis_version"] == "4.0"', redis), true, 'index syntax');
});

test('in, not in, contains, not contains: list membership, map keys, substrings', () => {
  assert.equal(holds('Service.Tags contains "canary"', canary), true);
  assert.equal(holds('canary in Service.Tags', redis), false);
  assert.equal(holds('canary not in Service.Tags', redis), true);
  assert.equal(holds('Service.Tags not contains primary', canary), true);
  assert.equal(holds('version in Service.Meta', canary), true, 'a map: key membership');
  assert.equal(holds('Service.ID contains "dis-"', canary), true, 'a string: substring');
});

test('is empty / is not empty on lists, maps and strings', () => {
  assert.equal(holds('Service.Tags is not empty', redis), true);
  assert.equal(holds('Checks.ServiceTags is empty', redis), true, 'any check with no service tags');
  assert.equal(holds('Node.TaggedAddresses is empty', redis), true, 'an absent map is empty');
  assert.equal(holds('Service.Meta.version is empty', redis), true);
});

test('matches / not matches are unanchored RE2 searches', () => {
  assert.equal(holds('Service.ID matches "dis-[0-9]"', canary), true);
  assert.equal(holds('Service.ID matches "^dis"', canary), false);
  assert.equal(holds('Node.Meta.instance_type not matches "^m5"', redis), true);
});

test('a selector through Checks holds when any check satisfies it, negations included', () => {
  assert.equal(holds('Checks.Status == warning', canary), true);
  assert.equal(holds('Checks.Status == warning', redis), false);
  assert.equal(holds('Checks.Status != passing', canary), true, 'some check is not passing');
  assert.equal(holds('not Checks.Status == passing', canary), true, 'no check is passing');
});

test('and binds tighter than or; not tighter than and; parentheses group', () => {
  assert.equal(holds('Service.Port == 1 and Service.Port == 2 or Service.Service == redis', redis), true);
  assert.equal(holds('Service.Port == 1 and (Service.Port == 2 or Service.Service == redis)', redis), false);
  assert.equal(holds('not Service.Port == 1 and Service.Service == redis', redis), true);
  assert.equal(holds('not not Service.Service == redis', redis), true);
  assert.equal(holds('(Service.Meta.version == v2 and canary in Service.Tags)', canary), true);
});

test('parse and type errors say what is wrong and where', () => {
  assert.deepEqual(error('(Service.ID == a'), { ok: false, offset: 16, message: 'at offset 16: unmatched parentheses: expected ")"' });
  assert.equal(error('Service.ID ==').offset, 13);
  assert.match(error('Service.ID == "abc').message, /unterminated string literal/);
  assert.match(error('Service.Tags == v2').message, /^at offset 0: "==" cannot be used with Service\.Tags, a list of strings/);
  assert.match(error('Service.Nope == 1').message, /unknown selector Service\.Nope/);
  assert.match(error('Service.Port == eighty').message, /at offset 16: "eighty" is not an integer/);
  assert.match(error('Service.ID == a junk').message, /at offset 16: unexpected "junk"/);
  assert.match(error('Service.ID matches "(?=x)"').message, /not an accepted regular expression/);
  assert.match(error('Service.ID is full').message, /expected "empty" after "is"/);
});
