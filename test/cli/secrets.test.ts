/**
 * Regressions: the CLI printed credentials held in config. `meshlet get` printed a Redis URL's
 * password to stdout and `meshlet push` put it in its diff, where terminals and CI logs keep
 * it. Now both show `***` (get prints them with --show-secrets, to edit and push back), and a
 * file holding `***` where a credential goes is refused rather than pushed over the password.
 * Also: `push --service --prune` ignored --prune silently; it is now refused as usage.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consulForTests } from '../support/consul.ts';
import { consulSuite } from '../support/consul-suite.ts';
import { consulUrl, meshlet, suiteConfigDir } from './cli-harness.ts';

describe('meshlet get and push: credentials in config', () => {
  const suite = consulSuite(consulForTests);
  const dir = suiteConfigDir();
  const env = (): Record<string, string> => (suite.consul.token === undefined ? {} : { CONSUL_HTTP_TOKEN: suite.consul.token });
  const run = (args: string[]) => meshlet(args, { cwd: dir.path, env: env() });
  const password = 'redis-pw-7e1c9a';
  const service = (pw: string) => ({ endpoints: ['127.0.0.1:9001'], rateLimit: { rps: 100, scope: 'global', redis: `redis://:${pw}@127.0.0.1:6379` } });

  it('regression: push showed the Redis password in its diff; the diff shows ***, and KV gets the real value', async () => {
    const file = await dir.write('secret.json', { services: { payments: service(password) } });
    const pushed = await run(['push', file, '--to', consulUrl(suite.consul.url, 'cli-secret')]);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.match(pushed.stdout, /"redis": "redis:\/\/\*\*\*@127\.0\.0\.1:6379"/);
    assert.doesNotMatch(pushed.stdout + pushed.stderr, new RegExp(password));
    assert.match((await suite.consul.kv.get('cli-secret/services/payments'))?.value ?? '', new RegExp(password));

    const changed = await dir.write('secret.json', { services: { payments: service('another-pw-55') } });
    const diff = await run(['push', changed, '--to', consulUrl(suite.consul.url, 'cli-secret'), '--dry-run']);
    assert.equal(diff.code, 0, diff.stderr);
    assert.match(diff.stdout, /^~ cli-secret\/services\/payments \(changed\)$/m);
    assert.doesNotMatch(diff.stdout, /redis-pw|another-pw/);
  });

  it('regression: get printed the Redis password; it prints ***, says so on stderr, and --show-secrets prints it', async () => {
    await suite.consul.kv.put('cli-get-secret/services/payments', JSON.stringify(service(password)));
    const shown = await run(['get', consulUrl(suite.consul.url, 'cli-get-secret')]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.doesNotMatch(shown.stdout, new RegExp(password));
    assert.equal(JSON.parse(shown.stdout).services.payments.rateLimit.redis, 'redis://***@127.0.0.1:6379');
    assert.match(shown.stderr, /credentials are shown as \*\*\*; --show-secrets prints them/);
    const raw = await run(['get', consulUrl(suite.consul.url, 'cli-get-secret'), '--show-secrets']);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(JSON.parse(raw.stdout).services.payments.rateLimit.redis, `redis://:${password}@127.0.0.1:6379`);
    assert.equal(raw.stderr, '');
  });

  it('a redacted document pushed back is refused, naming the field, and KV keeps the password', async () => {
    await suite.consul.kv.put('cli-back/services/payments', JSON.stringify(service(password)));
    const printed = await run(['get', consulUrl(suite.consul.url, 'cli-back')]);
    const file = await dir.write('printed.json', printed.stdout);
    const back = await run(['push', file, '--to', consulUrl(suite.consul.url, 'cli-back')]);
    assert.equal(back.code, 1);
    assert.match(back.stderr, /services\.payments\.rateLimit\.redis holds \*\*\* where a credential goes .*meshlet get --show-secrets/);
    assert.match((await suite.consul.kv.get('cli-back/services/payments'))?.value ?? '', new RegExp(password));
  });

  it("regression: push's diff showed a secret-named value that get shows as *** (endpoint meta, a KV value that does not parse); *** in other values is pushed", async () => {
    // *** inside values no credential goes in is the user's own text: pushed as it is, not refused.
    const meta = { auth: 'meta-secret-4f1d', note: '***', mask: 'a***b', query: 'x=***' };
    const first = await dir.write('meta.json', { services: { payments: { endpoints: [{ address: '127.0.0.1:9001', meta }] } } });
    const pushed = await run(['push', first, '--to', consulUrl(suite.consul.url, 'cli-meta')]);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.match(pushed.stdout, /"auth": "\*\*\*"/);
    assert.doesNotMatch(pushed.stdout, /meta-secret/);
    assert.deepEqual(JSON.parse((await suite.consul.kv.get('cli-meta/services/payments'))?.value ?? '{}').endpoints[0].meta, meta);
    const shown = await run(['get', consulUrl(suite.consul.url, 'cli-meta')]);
    assert.equal(JSON.parse(shown.stdout).services.payments.endpoints[0].meta.auth, '***', 'get hides it too');
    // KV holds hand-written YAML that does not parse (a tab): the diff shows its lines as they are, credentials hidden.
    await suite.consul.kv.put('cli-meta/services/payments', "endpoints: ['127.0.0.1:9001']\nrateLimit:\n\tpassword: kv-secret-9a2b\n  # redis password: kv-secret-9a2b\n");
    const over = await run(['push', first, '--to', consulUrl(suite.consul.url, 'cli-meta'), '--dry-run']);
    assert.equal(over.code, 0, over.stderr);
    assert.match(over.stdout, /^ {4}- \tpassword: \*\*\*$/m);
    assert.doesNotMatch(over.stdout + over.stderr, /secret-/);
  });

  it('regression: push --service --prune ignored --prune; it is refused as usage (exit 2)', async () => {
    const file = await dir.write('prune.json', { services: { payments: { endpoints: ['127.0.0.1:9001'] } } });
    const refused = await run(['push', file, '--to', consulUrl(suite.consul.url, 'cli-prune'), '--service', 'payments', '--prune']);
    assert.deepEqual([refused.code, refused.stderr], [2, 'meshlet: --prune deletes the keys the file lacks, but --service pushes one key: give one or the other\n']);
  });
});
