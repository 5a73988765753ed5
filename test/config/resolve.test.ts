import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isMeshError } from '../../src/core/errors.ts';
import { DEFAULT_BREAKER, DEFAULT_OUTLIER, DEFAULT_POOL, DEFAULT_RETRY } from '../../src/config/defaults.ts';
import { changedServices, policyEquals, policyKey } from '../../src/config/policy-key.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { validateMeshConfig } from '../../src/config/validate.ts';

const EP = ['127.0.0.1:9001'];
const resolveOne = (bootstrap: unknown, control?: unknown, name = 'payments') => {
  const services = resolveConfig({
    bootstrap: validateMeshConfig(bootstrap),
    control: control === undefined ? undefined : validateMeshConfig(control),
  }).services;
  return services.get(name)!;
};

test('built-in defaults follow DESIGN §3', () => {
  const policy = resolveOne({ services: { payments: { endpoints: EP } } });
  assert.deepEqual(policy.balancer, { policy: 'p2c-ewma', decay: 10_000 });
  assert.equal(policy.timeout, 10_000);
  assert.equal(policy.perTryTimeout, false);
  assert.deepEqual(policy.retry, {
    attempts: 2,
    backoff: { base: 25, max: 250 },
    on: ['connect-error', 'reset', '502', '503', '504'],
    budget: { ratio: 0.2, minPerSecond: 10, window: 10_000 },
    maxRetryAfter: 1000,
  });
  assert.deepEqual(policy.outlier, { consecutiveFailures: 5, ejectFor: 30_000, maxEjectFor: 300_000, maxEjectedPercent: 50, panicThreshold: 50, probeInterval: 2_000 });
  assert.equal(policy.breaker, false);
  assert.equal(policy.hedge, false);
  assert.equal(policy.rateLimit, false);
  assert.equal(policy.concurrency, false);
  assert.equal(policy.fault, false);
  assert.equal(policy.tls, undefined);
  assert.deepEqual(policy.pool, DEFAULT_POOL);
  assert.deepEqual(policy.discovery, { type: 'static', endpoints: [{ address: '127.0.0.1:9001', weight: 1, tags: [], meta: {} }] });
  assert.ok(Object.isFrozen(policy) && Object.isFrozen(policy.retry));
});

test('each level overrides the one below it', () => {
  const bootstrap = { defaults: { timeout: '1s' }, services: { payments: { endpoints: EP, timeout: '2s' } } };
  assert.equal(resolveOne({ defaults: { timeout: '1s' }, services: { payments: { endpoints: EP } } }).timeout, 1000);
  assert.equal(resolveOne(bootstrap).timeout, 2000);
  assert.equal(resolveOne(bootstrap, { defaults: { timeout: '3s' } }).timeout, 3000);
  assert.equal(resolveOne(bootstrap, { defaults: { timeout: '3s' }, services: { payments: { timeout: '4s' } } }).timeout, 4000);
});

test('partial objects merge deeply over lower levels', () => {
  const policy = resolveOne(
    { defaults: { retry: { attempts: 3 } }, services: { payments: { endpoints: EP, retry: { backoff: { max: '1s' } } } } },
    { services: { payments: { retry: { budget: { ratio: 0.1 } } } } },
  );
  assert.deepEqual(policy.retry, {
    ...DEFAULT_RETRY,
    attempts: 3,
    backoff: { base: 25, max: 1000 },
    budget: { ratio: 0.1, minPerSecond: 10, window: 10_000 },
  });
});

test('false turns a policy off; a later object re-enables it from the built-in values', () => {
  const off = resolveOne({ services: { payments: { endpoints: EP, retry: { attempts: 5 } } } }, { defaults: { retry: false, outlier: false } });
  assert.equal(off.retry, false);
  assert.equal(off.outlier, false);
  const back = resolveOne(
    { defaults: { retry: false }, services: { payments: { endpoints: EP } } },
    { services: { payments: { retry: { attempts: 3 } } } },
  );
  assert.deepEqual(back.retry, { ...DEFAULT_RETRY, attempts: 3 });
  const noBudget = resolveOne({ services: { payments: { endpoints: EP, retry: { budget: false } } } });
  assert.equal(noBudget.retry !== false && noBudget.retry.budget, false);
});

test('true turns a policy on with defaults, keeping what a lower level set', () => {
  assert.deepEqual(resolveOne({ services: { payments: { endpoints: EP, breaker: true } } }).breaker, DEFAULT_BREAKER);
  const kept = resolveOne({ defaults: { breaker: { openFor: '1s' } }, services: { payments: { endpoints: EP, breaker: true } } });
  assert.deepEqual(kept.breaker, { ...DEFAULT_BREAKER, openFor: 1000 });
  assert.deepEqual(resolveOne({ services: { payments: { endpoints: EP, outlier: true } } }).outlier, DEFAULT_OUTLIER);
  assert.deepEqual(resolveOne({ services: { payments: { endpoints: EP, concurrency: true } } }).concurrency, {
    adaptive: true,
    initial: 20,
    min: 1,
    max: 1000,
  });
});

test('switching balancer policy or concurrency mode starts from that kind', () => {
  const policy = resolveOne(
    { defaults: { balancer: { policy: 'p2c-ewma', decay: '5s' }, concurrency: { adaptive: true, max: 50 } }, services: { payments: { endpoints: EP } } },
    { services: { payments: { balancer: { policy: 'ring-hash', hashOn: 'header:X-User' }, concurrency: { max: 8 } } } },
  );
  assert.deepEqual(policy.balancer, { policy: 'ring-hash', hashOn: 'header:x-user', minRingSize: 1024 });
  assert.deepEqual(policy.concurrency, { adaptive: false, max: 8, queue: 0, queueTimeout: 1000 });
});

test('arrays and endpoint lists replace; hedge, fault and rate limit get their defaults', () => {
  const policy = resolveOne(
    { defaults: { retry: { on: ['503'] } }, services: { payments: { endpoints: EP } } },
    {
      defaults: { retry: { on: [429, 'reset'] } },
      services: {
        payments: {
          endpoints: ['https://10.0.0.7:8443'],
          hedge: { after: '40ms' },
          fault: { abort: { percent: 1 } },
          rateLimit: { rps: 200 },
        },
      },
    },
  );
  assert.deepEqual(policy.retry !== false && policy.retry.on, ['429', 'reset']);
  assert.deepEqual(policy.discovery.type === 'static' && policy.discovery.endpoints.map((e) => e.address), ['https://10.0.0.7:8443']);
  assert.deepEqual(policy.hedge, { after: { delay: 40 }, maxExtraLoad: 0.05, maxAttempts: 2 });
  assert.deepEqual(policy.fault, { abort: { percent: 1, status: 503 }, delay: false });
  assert.deepEqual(policy.rateLimit, { rps: 200, burst: 200, scope: 'local', redis: undefined });
});

test('dns discovery gets record, interval, protocol and port defaults', () => {
  const policy = resolveOne({ services: { payments: { discovery: { type: 'dns', name: 'payments.internal', protocol: 'https' } } } });
  assert.deepEqual(policy.discovery, { type: 'dns', name: 'payments.internal', record: 'a', interval: 30_000, protocol: 'https', port: 443 });
});

test('a service exists when either document names it; one without endpoints is an issue', () => {
  const { services } = resolveConfig({
    bootstrap: validateMeshConfig({ services: { a: { endpoints: EP } } }),
    control: validateMeshConfig({ services: { b: { endpoints: EP } } }),
  });
  assert.deepEqual([...services.keys()], ['a', 'b']);
  assert.throws(
    () => resolveOne({ services: { payments: { endpoints: EP } } }, { services: { orders: { timeout: '1s' } } }),
    (error) => isMeshError(error) && error.issues?.some((i) => i.path === 'services.orders' && i.message.includes('no endpoints or discovery')) === true,
  );
});

test('merged-level checks report every issue with its path', () => {
  const document = {
    services: {
      payments: {
        endpoints: EP,
        retry: { backoff: { base: '1s', max: '10ms' } },
        outlier: { ejectFor: '1m', maxEjectFor: '10s' },
        rateLimit: { scope: 'global', rps: 5 },
        concurrency: { queue: 4 },
        fault: { delay: { percent: 5 } },
      },
    },
  };
  assert.throws(
    () => resolveOne(document),
    (error) => {
      assert.ok(isMeshError(error));
      assert.deepEqual(error.issues?.map((i) => i.path).sort(), [
        'services.payments.concurrency.max',
        'services.payments.fault.delay.duration',
        'services.payments.outlier.maxEjectFor',
        'services.payments.rateLimit.redis',
        'services.payments.retry.backoff',
      ]);
      return true;
    },
  );
});

test('TLS files are read relative to baseDir; unreadable ones are issues with the path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshlet-tls-'));
  try {
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    writeFileSync(join(dir, 'junk.pem'), 'not a pem');
    const bootstrap = validateMeshConfig({ services: { payments: { endpoints: EP, tls: { ca: './ca.pem', servername: 'payments.local' } } } });
    const tls = resolveConfig({ bootstrap, baseDir: dir }).services.get('payments')!.tls!;
    assert.match(tls.ca!, /BEGIN CERTIFICATE/);
    assert.equal(tls.servername, 'payments.local');
    assert.equal(tls.rejectUnauthorized, true);
    const broken = validateMeshConfig({ services: { payments: { endpoints: EP, tls: { ca: 'missing.pem', cert: 'junk.pem', key: 'ca.pem' } } } });
    assert.throws(
      () => resolveConfig({ bootstrap: broken, baseDir: dir }),
      (error) =>
        isMeshError(error) &&
        error.issues?.some((i) => i.path === 'services.payments.tls.ca' && i.message.includes('ENOENT')) === true &&
        error.issues?.some((i) => i.path === 'services.payments.tls.cert' && i.message.includes('does not look like PEM')) === true,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('policyKey and changedServices find exactly the services whose policy changed', () => {
  const before = resolveConfig({ bootstrap: validateMeshConfig({ services: { a: { endpoints: EP }, b: { endpoints: EP }, c: { endpoints: EP } } }) });
  const after = resolveConfig({
    bootstrap: validateMeshConfig({ services: { a: { endpoints: EP }, b: { endpoints: EP, timeout: '1s' }, d: { endpoints: EP } } }),
  });
  assert.ok(policyEquals(before.services.get('a')!, after.services.get('a')!));
  assert.notEqual(policyKey(before.services.get('b')!), policyKey(after.services.get('b')!));
  assert.deepEqual(changedServices(before.services, after.services), ['b', 'c', 'd']);
});
