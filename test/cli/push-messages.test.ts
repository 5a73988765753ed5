/**
 * What `meshlet push` tells an operator, against the emulator in child processes:
 * - regression: a 403's advice named "the consul.token option", which the CLI does not have;
 *   it now says --token-file or CONSUL_HTTP_TOKEN;
 * - regression: under a deny-by-default ACL with no token, the empty read showed a full
 *   "will create" diff and then failed 403 on the write; push now says why before the diff;
 * - regression: the diff printed the whole value as context (~30 lines for a 4-line change);
 *   unchanged runs now fold to 3 lines of context either side and one `…`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { foldUnchanged, lineDiff } from '../../src/cli/line-diff.ts';
import { consulForTests, emulatorOnly } from '../support/consul.ts';
import { consulSuite } from '../support/consul-suite.ts';
import { consulUrl, meshlet, suiteConfigDir } from './cli-harness.ts';

describe('meshlet push: what it tells the operator', () => {
  const secret = 'push-messages-secret-4d5e6f';
  const suite = consulSuite(() => consulForTests({ acl: { defaultPolicy: 'deny', tokens: { [secret]: { policy: 'write' } } } }));
  const dir = suiteConfigDir();

  it('regression: a 403 names the CLI\'s own token sources (--token-file or CONSUL_HTTP_TOKEN), not the consul.token option', async (t) => {
    if (emulatorOnly(t, suite.consul) === undefined) return;
    const file = await dir.write('wrong-token.json', { defaults: { timeout: '1s' } });
    const refused = await meshlet(['push', file, '--to', consulUrl(suite.consul.url, 'msg-wrong')], { cwd: dir.path, env: { CONSUL_HTTP_TOKEN: 'not-a-known-token' } });
    assert.equal(refused.code, 4);
    assert.match(refused.stderr, /403 \(ACL not found\): the ACL token is unknown; check --token-file or CONSUL_HTTP_TOKEN/);
    assert.doesNotMatch(refused.stderr, /consul\.token/);
  });

  it('regression: under a deny-by-default ACL with no token, push says before its diff that the empty read may be ACL filtering', async (t) => {
    if (emulatorOnly(t, suite.consul) === undefined) return;
    const url = consulUrl(suite.consul.url, 'msg-anonymous');
    const file = await dir.write('anonymous.json', { defaults: { timeout: '1s' } });
    const anonymous = await meshlet(['push', file, '--to', url], { cwd: dir.path });
    assert.match(anonymous.stderr, /^warning: Consul at consul:\/\/127\.0\.0\.1:\d+\/msg-anonymous denies by default \(X-Consul-Default-ACL-Policy: deny\) and no ACL token was given: .*give --token-file or set CONSUL_HTTP_TOKEN$/m);
    assert.equal(anonymous.code, 4, 'the write is still refused');
    assert.match(anonymous.stderr, /with 403 .*--token-file or CONSUL_HTTP_TOKEN/);
    assert.doesNotMatch(anonymous.stderr, /consul\.token/);
    // With a token the read is not filtered: no warning.
    const withToken = await meshlet(['push', file, '--to', url, '--dry-run'], { cwd: dir.path, env: { CONSUL_HTTP_TOKEN: secret } });
    assert.equal(withToken.code, 0, withToken.stderr);
    assert.doesNotMatch(withToken.stderr, /warning/);
  });

  it('regression: the diff of a small change in a long value folds unchanged runs to 3 lines of context and one …', async (t) => {
    if (emulatorOnly(t, suite.consul) === undefined) return;
    const url = consulUrl(suite.consul.url, 'msg-diff');
    const endpoints = (changed: number): string[] => Array.from({ length: 30 }, (_, i) => `http://127.0.0.1:${(i === changed ? 20000 : 10000) + i}`);
    const env = { CONSUL_HTTP_TOKEN: secret };
    const file = await dir.write('long.json', { services: { payments: { endpoints: endpoints(-1) } } });
    assert.equal((await meshlet(['push', file, '--to', url], { cwd: dir.path, env })).code, 0);
    await dir.write('long.json', { services: { payments: { endpoints: endpoints(15) } } });
    const changed = await meshlet(['push', file, '--to', url, '--dry-run'], { cwd: dir.path, env });
    assert.equal(changed.code, 0, changed.stderr);
    const diff = changed.stdout.split('\n').filter((line) => line.startsWith('    '));
    assert.deepEqual(diff.filter((line) => /^ {4}[-+]/.test(line)), ['    -     "http://127.0.0.1:10015",', '    +     "http://127.0.0.1:20015",']);
    assert.equal(diff.filter((line) => line === '    …').length, 2, `a … for each folded run:\n${diff.join('\n')}`);
    assert.equal(diff.length, 2 + 6 + 2, `3 lines of context either side, not the whole ~35-line value:\n${diff.join('\n')}`);
  });

  it('foldUnchanged keeps short runs, leaves a diff of only additions whole, and folds each long run once', () => {
    const keep = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `  ${tag}${i}`);
    assert.deepEqual(foldUnchanged([...keep(2, 'a'), '- x', '+ y', ...keep(2, 'b')]), [...keep(2, 'a'), '- x', '+ y', ...keep(2, 'b')]);
    assert.deepEqual(foldUnchanged(lineDiff('', 'a\nb\nc\nd\ne\nf\ng\nh\n')).length, 8);
    assert.deepEqual(foldUnchanged([...keep(10, 'a'), '- x', ...keep(10, 'b'), '+ y', ...keep(10, 'c')]), [
      '…',
      ...keep(10, 'a').slice(7),
      '- x',
      ...keep(10, 'b').slice(0, 3),
      '…',
      ...keep(10, 'b').slice(7),
      '+ y',
      ...keep(10, 'c').slice(0, 3),
      '…',
    ]);
  });
});
