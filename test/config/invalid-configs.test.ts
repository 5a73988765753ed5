/**
 * Table-driven: each broken config must fail with MESH_CONFIG_INVALID, an issue at the exact
 * path, and a message that says what was expected. None may crash or echo a huge value.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ConfigIssue, isMeshError } from '../../src/core/errors.ts';
import { parseConfigText } from '../../src/config/parse.ts';
import { validateMeshConfig } from '../../src/config/validate.ts';

const EP = ['127.0.0.1:9001'];
const svc = (policy: Record<string, unknown>) => ({ services: { payments: { endpoints: EP, ...policy } } });
const P = 'services.payments';

const cyclic: Record<string, unknown> = { services: {} };
(cyclic.services as Record<string, unknown>).loop = cyclic;

const throwingGetter = {
  services: {
    get payments(): unknown {
      throw new Error('boom');
    },
  },
};
const revoked = Proxy.revocable({}, {});
revoked.revoke();

const cases: [name: string, document: unknown, path: string, fragment: string][] = [
  ['null root', null, '', 'expected an object, got null'],
  ['array root', [], '', 'got an array of 0 items'],
  ['number root', 42, '', 'got 42'],
  ['string root', 'services', '', 'got "services"'],
  ['undefined root', undefined, '', 'got nothing'],
  ['unknown root key', { servics: {} }, 'servics', 'did you mean "services"'],
  ['services not an object', { services: [] }, 'services', 'expected an object of services'],
  ['misspelt policy key', svc({ retyr: { attempts: 3 } }), `${P}.retyr`, 'did you mean "retry"'],
  ['unknown key in retry', svc({ retry: { attempts: 2, tries: 3 } }), `${P}.retry.tries`, 'unknown key'],
  ['unknown key in backoff', svc({ retry: { backoff: { bse: '1ms' } } }), `${P}.retry.backoff.bse`, 'did you mean "base"'],
  ['unknown key in budget', svc({ retry: { budget: { ratio: 0.1, perSecond: 1 } } }), `${P}.retry.budget.perSecond`, 'unknown key'],
  ['unknown key in defaults', { defaults: { timout: '1s' } }, 'defaults.timout', 'did you mean "timeout"'],
  ['unknown key in endpoint object', svc({ endpoints: [{ address: '127.0.0.1:1', wieght: 2 }] }), `${P}.endpoints.0.wieght`, 'did you mean "weight"'],
  ['negative attempts', svc({ retry: { attempts: -2 } }), `${P}.retry.attempts`, 'expected an integer ≥ 1, got -2'],
  ['fractional attempts', svc({ retry: { attempts: 1.5 } }), `${P}.retry.attempts`, 'expected an integer from 1 to 10, got 1.5'],
  ['absurd attempts', svc({ retry: { attempts: 1000 } }), `${P}.retry.attempts`, 'expected an integer ≤ 10, got 1000'],
  ['attempts as string', svc({ retry: { attempts: '3' } }), `${P}.retry.attempts`, 'got "3"'],
  ['misspelt balancer', svc({ balancer: 'p2c-ewmaa' }), `${P}.balancer`, 'did you mean "p2c-ewma"'],
  ['misspelt balancer in object', svc({ balancer: { policy: 'round-robbin' } }), `${P}.balancer.policy`, 'did you mean "round-robin"'],
  ['hashOn on the wrong balancer', svc({ balancer: { policy: 'random', hashOn: 'header:x' } }), `${P}.balancer.hashOn`, 'only to the "ring-hash"'],
  ['bad hashOn', svc({ balancer: { policy: 'ring-hash', hashOn: 'cookie:x' } }), `${P}.balancer.hashOn`, '"header:<name>"'],
  ['garbage duration', svc({ timeout: '10 parsecs' }), `${P}.timeout`, 'got "10 parsecs"'],
  ['negative duration', svc({ perTryTimeout: '-5ms' }), `${P}.perTryTimeout`, 'negative durations are not allowed'],
  ['absurd duration', svc({ timeout: '48h' }), `${P}.timeout`, 'at most 24h'],
  ['zero timeout', svc({ timeout: 0 }), `${P}.timeout`, 'expected a duration > 0'],
  ['NaN timeout', svc({ timeout: Number.NaN }), `${P}.timeout`, 'got NaN'],
  ['Infinity backoff', svc({ retry: { backoff: { max: Number.POSITIVE_INFINITY } } }), `${P}.retry.backoff.max`, 'got Infinity'],
  ['retry as string', svc({ retry: 'yes' }), `${P}.retry`, 'expected true, false or an object'],
  ['rateLimit true', svc({ rateLimit: true }), `${P}.rateLimit`, 'true has no defaults here'],
  ['zero rps', svc({ rateLimit: { rps: 0 } }), `${P}.rateLimit.rps`, 'expected a number > 0, got 0'],
  ['bad scope', svc({ rateLimit: { rps: 5, scope: 'globl' } }), `${P}.rateLimit.scope`, 'did you mean "global"'],
  ['redis URL is never echoed', svc({ rateLimit: { rps: 5, redis: 'http://:secret@x' } }), `${P}.rateLimit.redis`, 'not shown'],
  ['budget ratio above 1', svc({ retry: { budget: { ratio: 2 } } }), `${P}.retry.budget.ratio`, 'expected a number ≤ 1, got 2'],
  ['bad retry condition', svc({ retry: { on: ['503', 'boom'] } }), `${P}.retry.on.1`, 'got "boom"'],
  ['2xx retry condition', svc({ retry: { on: [200] } }), `${P}.retry.on.0`, 'from 400 to 599'],
  ['bad hedge percentile', svc({ hedge: { after: 'p101' } }), `${P}.hedge.after`, '"p50" to "p99.9"'],
  ['hedge maxAttempts 1', svc({ hedge: { maxAttempts: 1 } }), `${P}.hedge.maxAttempts`, 'expected an integer ≥ 2'],
  ['breaker errorRate 0', svc({ breaker: { errorRate: 0 } }), `${P}.breaker.errorRate`, '> 0'],
  ['outlier percent above 100', svc({ outlier: { maxEjectedPercent: 150 } }), `${P}.outlier.maxEjectedPercent`, '≤ 100'],
  ['adaptive key on a fixed limit', svc({ concurrency: { max: 5, initial: 3 } }), `${P}.concurrency.initial`, 'add "adaptive": true'],
  ['queue on an adaptive limit', svc({ concurrency: { adaptive: true, queue: 3 } }), `${P}.concurrency.queue`, 'only to a fixed limit'],
  ['adaptive not boolean', svc({ concurrency: { adaptive: 'yes' } }), `${P}.concurrency.adaptive`, 'expected true or false'],
  ['fault abort status', svc({ fault: { abort: { percent: 1, status: 99 } } }), `${P}.fault.abort.status`, 'expected an integer ≥ 200, got 99'],
  ['fault percent above 100', svc({ fault: { delay: { percent: 101, duration: '1ms' } } }), `${P}.fault.delay.percent`, '≤ 100'],
  ['pool connections 0', svc({ pool: { connections: 0 } }), `${P}.pool.connections`, '≥ 1'],
  ['tls rejectUnauthorized not boolean', svc({ tls: { rejectUnauthorized: 'no' } }), `${P}.tls.rejectUnauthorized`, 'expected true or false'],
  ['bad endpoint string', svc({ endpoints: ['localhost'] }), `${P}.endpoints.0`, '"host:port"'],
  ['endpoint with a path', svc({ endpoints: ['http://127.0.0.1:80/api'] }), `${P}.endpoints.0`, '"http(s)://host:port"'],
  ['endpoint port out of range', svc({ endpoints: ['127.0.0.1:70000'] }), `${P}.endpoints.0`, 'from 1 to 65535'],
  ['duplicate endpoint', svc({ endpoints: ['127.0.0.1:1', '127.0.0.1:1'] }), `${P}.endpoints.1`, 'duplicate endpoint'],
  ['endpoint weight 0', svc({ endpoints: [{ address: '127.0.0.1:1', weight: 0 }] }), `${P}.endpoints.0.weight`, '≥ 1'],
  ['meta value not a string', svc({ endpoints: [{ address: '127.0.0.1:1', meta: { v: 2 } }] }), `${P}.endpoints.0.meta.v`, 'meta value'],
  ['endpoints and discovery', svc({ discovery: { type: 'dns', name: 'x.internal' } }), `${P}.discovery`, 'not both'],
  ['unknown discovery type', { services: { payments: { discovery: { type: 'consull', service: 'payments' } } } }, `${P}.discovery.type`, 'did you mean "consul"'],
  ['dns record type', { services: { payments: { discovery: { type: 'dns', name: 'x.internal', record: 'mx' } } } }, `${P}.discovery.record`, '"a", "srv"'],
  ['subsets in defaults', { defaults: { subsets: { v1: { tags: ['v1'] } } } }, 'defaults.subsets', 'set it per service'],
  ['routes in defaults', { defaults: { routes: [] } }, 'defaults.routes', 'set it per service'],
  ['endpoints in defaults', { defaults: { endpoints: EP } }, 'defaults.endpoints', 'set it per service'],
  ['empty service name', { services: { '': { endpoints: EP } } }, 'services.', 'service names are 1 to 63 characters'],
  ['whitespace service name', { services: { 'pay ments': { endpoints: EP } } }, 'services.pay ments', 'service names'],
  ['upper-case service name', { services: { Payments: { endpoints: EP } } }, 'services.Payments', 'service names'],
  ['constructor service name', { services: { constructor: { endpoints: EP } } }, 'services.constructor', 'reserved'],
  ['__proto__ service (JSON.parse)', JSON.parse('{"services":{"__proto__":{"endpoints":["127.0.0.1:1"]}}}'), 'services.__proto__', '"__proto__" is not allowed'],
  ['__proto__ deep', JSON.parse(`{"services":{"payments":{"endpoints":["127.0.0.1:1"],"retry":{"__proto__":{"attempts":1}}}}}`), `${P}.retry.__proto__`, 'not allowed'],
  ['10 MB string', svc({ tls: { ca: 'x'.repeat(10 * 1024 * 1024) } }), `${P}.tls.ca`, 'a string of 10485760 characters'],
  ['huge array', svc({ retry: { on: new Array(100_000).fill('503') } }), `${P}.retry.on`, 'an array of 100000 items'],
  ['too many services', { services: Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`s${i}`, { endpoints: EP }])) }, 'services', 'at most 512 services'],
  ['deep nesting', { defaults: JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`) }, 'defaults.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a', 'nested deeper'],
  ['cyclic object', cyclic, 'services.loop', 'cyclic reference'],
  ['getter that throws', throwingGetter, 'services.payments', 'its getter threw Error'],
  ['revoked proxy', { services: revoked.proxy }, 'services', 'could not be read'],
  ['a Map', { services: new Map() }, 'services', 'got a Map'],
  ['a function', svc({ timeout: () => 1 }), `${P}.timeout`, 'got a function'],
  ['a bigint', svc({ timeout: 10n }), `${P}.timeout`, 'got a bigint'],
  ['a Date', svc({ timeout: new Date(0) }), `${P}.timeout`, 'got a Date'],
];

function issuesOf(run: () => unknown): readonly ConfigIssue[] {
  try {
    run();
  } catch (error) {
    assert.ok(isMeshError(error), `expected a MeshError, got ${String(error)}`);
    assert.equal(error.code, 'MESH_CONFIG_INVALID');
    assert.ok(error.message.length < 3000, 'the message stays short');
    return error.issues ?? [];
  }
  assert.fail('expected the config to be rejected');
}

for (const [name, document, path, fragment] of cases) {
  test(`rejects: ${name}`, () => {
    const issues = issuesOf(() => validateMeshConfig(document));
    const match = issues.find((issue) => issue.path === path && issue.message.includes(fragment));
    assert.ok(match, `no issue at "${path}" containing "${fragment}" in ${JSON.stringify(issues).slice(0, 1500)}`);
    for (const issue of issues) assert.ok(issue.message.length < 600, `short message at ${issue.path}`);
  });
}

test('one document with three errors reports all three', () => {
  const issues = issuesOf(() =>
    validateMeshConfig(svc({ retry: { attempts: 0 }, balancer: 'fastest', timeout: '1 fortnight' })),
  );
  assert.deepEqual(issues.map((issue) => issue.path).sort(), [`${P}.balancer`, `${P}.retry.attempts`, `${P}.timeout`]);
});

test('rejects YAML syntax errors with a line and column', () => {
  const issues = issuesOf(() => parseConfigText('services:\n  payments: [\n', 'yaml'));
  assert.match(issues[0]!.message, /YAML error at line \d+, column \d+/);
});

test('rejects a JSON syntax error with a line and column, without echoing the text', () => {
  const issues = issuesOf(() => parseConfigText(`{"services": {\n  "secret-value-xyz": ,\n}}`, 'json'));
  assert.match(issues[0]!.message, /not valid JSON at line 2, column \d+/);
  assert.ok(!issues[0]!.message.includes('secret-value-xyz'));
});

test('rejects a YAML alias bomb quickly', () => {
  const rows = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (const [name, prev] of [['b', 'a'], ['c', 'b'], ['d', 'c'], ['e', 'd'], ['f', 'e'], ['g', 'f']]) {
    rows.push(`${name}: &${name} [${new Array(9).fill(`*${prev}`).join(',')}]`);
  }
  const started = performance.now();
  const issues = issuesOf(() => parseConfigText(rows.join('\n'), 'yaml'));
  assert.match(issues[0]!.message, /aliases are limited to 100/);
  assert.ok(performance.now() - started < 2000);
});

test('rejects duplicate YAML keys and oversized text', () => {
  assert.match(issuesOf(() => parseConfigText('a: 1\na: 2\n', 'yaml'))[0]!.message, /unique/);
  assert.match(issuesOf(() => parseConfigText(' '.repeat(2 * 1024 * 1024), 'json'))[0]!.message, /the limit is/);
});

test('a __proto__ key in YAML is data, never a prototype, and is rejected', () => {
  const document = parseConfigText('services:\n  __proto__:\n    endpoints: ["127.0.0.1:1"]\n', 'yaml');
  assert.equal(({} as Record<string, unknown>).endpoints, undefined);
  const issues = issuesOf(() => validateMeshConfig(document));
  assert.equal(issues[0]!.path, 'services.__proto__');
});

test('never throws anything but a MeshError, whatever the input', () => {
  const hostile = new Proxy(
    {},
    {
      getPrototypeOf() {
        throw new TypeError('trap');
      },
    },
  );
    // biome-ignore lint/suspicious/noSparseArray: holes are the point of this input
  const holes = [, '127.0.0.1:1'];
  const inputs: unknown[] = [Symbol('x'), hostile, { services: hostile }, { services: { a: { endpoints: holes } } }];
  for (const input of inputs) {
    assert.throws(
      () => validateMeshConfig(input),
      (error) => isMeshError(error) && error.code === 'MESH_CONFIG_INVALID' && (error.issues?.length ?? 0) > 0,
    );
  }
  assert.deepEqual(validateMeshConfig(Object.create(null)), {});
});
