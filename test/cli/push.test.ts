/**
 * `meshlet push` against the emulator (or a real agent when CONSUL_HTTP_ADDR is set), run as
 * a child process: it writes each changed key with cas and a mesh watching the prefix applies
 * the push; --dry-run writes nothing; an invalid file and an invalid RESULT are refused before
 * anything is written; a stale cas is refused naming the key (the race made deterministic by
 * push's afterRead hook, in-process); --service and --prune; the token never in any output.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMesh } from '../../src/index.ts';
import { consulForTests, emulatorOnly } from '../support/consul.ts';
import { consulSuite } from '../support/consul-suite.ts';
import { eventually } from '../integration/consul-discovery-harness.ts';
import { consulUrl, meshlet, meshletInProcess, suiteConfigDir } from './cli-harness.ts';

describe('meshlet push', () => {
  const suite = consulSuite(consulForTests);
  const dir = suiteConfigDir();
  const env = (): Record<string, string> => (suite.consul.token === undefined ? {} : { CONSUL_HTTP_TOKEN: suite.consul.token });
  const run = (args: string[]) => meshlet(args, { cwd: dir.path, env: env() });
  const casWrites = (prefix: string) =>
    (suite.consul.emulator?.requests ?? []).filter((r) => r.method === 'PUT' && r.path.startsWith(`/v1/kv/${prefix}/`)).map((r) => `${r.path.slice('/v1/kv/'.length)}?${r.query}`);

  it('writes each key with cas (0 for a new key, the ModifyIndex read for a changed one), and a mesh watching the prefix applies the push', async () => {
    const backend = await suite.backend();
    const mesh = await createMesh({ service: 'caller', control: consulUrl(suite.consul.url, 'push-apply'), ...(suite.consul.token && { consul: { token: suite.consul.token } }) });
    try {
      const file = await dir.write('apply.yaml', `defaults:\n  timeout: 2s\nservices:\n  payments:\n    endpoints: ["${backend.address}"]\n`);
      const first = await run(['push', file, '--to', consulUrl(suite.consul.url, 'push-apply')]);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /^\+ push-apply\/defaults \(new\)\n {4}\+ \{\n {4}\+ {3}"timeout": "2s"\n {4}\+ \}\n/m);
      assert.match(first.stdout, /^\+ push-apply\/services\/payments \(new\)$/m);
      assert.match(first.stdout, /^wrote 2 keys with cas/m);
      await eventually(async () => {
        try {
          return (await mesh.client('payments').request({ path: '/' })).statusCode === 200;
        } catch {
          return false;
        }
      }, 'the mesh to apply the pushed config');

      const before = await suite.consul.kv.get('push-apply/defaults');
      await dir.write('apply.yaml', `defaults:\n  timeout: 3s\nservices:\n  payments:\n    endpoints: ["${backend.address}"]\n`);
      const second = await run(['push', file, '--to', consulUrl(suite.consul.url, 'push-apply')]);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, /^~ push-apply\/defaults \(changed\)\n {6}\{\n {4}- {3}"timeout": "2s"\n {4}\+ {3}"timeout": "3s"\n {6}\}\n/m);
      assert.match(second.stdout, /^= push-apply\/services\/payments \(unchanged\)$/m);
      assert.match(second.stdout, /^wrote 1 key with cas/m);
      if (suite.consul.emulator !== undefined) {
        assert.deepEqual(casWrites('push-apply'), [
          'push-apply/defaults?cas=0',
          'push-apply/services/payments?cas=0',
          `push-apply/defaults?cas=${before?.modifyIndex}`,
        ]);
      }
      await eventually(() => (mesh.state().config as { version: number }).version >= 3, 'the second push to apply');
      assert.equal(JSON.parse((await suite.consul.kv.get('push-apply/defaults'))?.value ?? '').timeout, '3s');
    } finally {
      await mesh.close();
    }
  });

  it('--dry-run shows the diff and writes nothing', async () => {
    await suite.consul.kv.put('push-dry/defaults', '{"timeout": "1s"}');
    const before = await suite.consul.kv.get('push-dry/defaults');
    const file = await dir.write('dry.json', { defaults: { timeout: '5s' }, services: { search: { endpoints: ['127.0.0.1:9002'] } } });
    const result = await run(['push', file, '--to', consulUrl(suite.consul.url, 'push-dry'), '--dry-run']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^dry run: dry\.json → consul:\/\/127\.0\.0\.1:\d+\/push-dry$/m);
    assert.match(result.stdout, /^~ push-dry\/defaults \(changed\)$/m);
    assert.match(result.stdout, /^\+ push-dry\/services\/search \(new\)$/m);
    assert.match(result.stdout, /^dry run: 2 keys would be written; nothing was written$/m);
    assert.deepEqual(await suite.consul.kv.get('push-dry/defaults'), before);
    assert.equal(await suite.consul.kv.get('push-dry/services/search'), undefined);
    assert.deepEqual(casWrites('push-dry'), []);
  });

  it('refuses an invalid file (exit 1, every problem with its path) and writes nothing', async () => {
    const file = await dir.write('invalid.json', { services: { payments: { endpoints: ['127.0.0.1:9001'], retry: { attempts: 'three' } } }, defaults: { timeout: -1 } });
    const result = await run(['push', file, '--to', consulUrl(suite.consul.url, 'push-invalid')]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^invalid\.json is invalid, so nothing was pushed \(2 problems\):\n {2}defaults\.timeout: .*\n {2}services\.payments\.retry\.attempts: /);
    assert.equal(result.stdout, '');
    assert.equal(await suite.consul.kv.get('push-invalid/defaults'), undefined);
  });

  it('refuses a valid file whose RESULT would be invalid: with a stray key, or with what KV already holds', async () => {
    // A typo'd key already under the prefix: every mesh would refuse the snapshot.
    await suite.consul.kv.put('push-result/service/payments', '{"timeout": "1s"}');
    const file = await dir.write('result.json', { defaults: { timeout: '1s' } });
    const stray = await run(['push', file, '--to', consulUrl(suite.consul.url, 'push-result')]);
    assert.equal(stray.code, 1, stray.stdout);
    assert.match(stray.stderr, /would be invalid, so nothing was pushed \(1 problem\):\n {2}push-result\/service\/payments: is not part of meshlet's KV layout/);
    assert.equal(await suite.consul.kv.get('push-result/defaults'), undefined);

    // KV's payments entry has the client cert and relies on the defaults' key; a push of
    // defaults without the key is valid alone, but leaves payments with half a key pair.
    await suite.consul.kv.put('push-pair/defaults', JSON.stringify({ tls: { key: './client-key.pem' } }));
    await suite.consul.kv.put('push-pair/services/payments', JSON.stringify({ endpoints: ['127.0.0.1:9001'], tls: { cert: './client.pem' } }));
    const pair = await run(['push', file, '--to', consulUrl(suite.consul.url, 'push-pair')]);
    assert.equal(pair.code, 1, pair.stdout);
    assert.match(pair.stderr, /^ {2}push-pair\/services\/payments: tls\.key: cert and key go together/m);
    assert.equal((await suite.consul.kv.get('push-pair/defaults'))?.value, JSON.stringify({ tls: { key: './client-key.pem' } }));
  });

  it('a stale cas is refused: a key changed (or created) between the read and the write is not overwritten (exit 3, naming the key)', async () => {
    const url = consulUrl(suite.consul.url, 'push-race');
    await suite.consul.kv.put('push-race/defaults', '{"timeout": "1s"}');
    const file = await dir.write('race.json', { defaults: { timeout: '2s' }, services: { payments: { endpoints: ['127.0.0.1:9001'] } } });
    const other = '{"timeout": "9s"}';
    const changed = await meshletInProcess(['push', file, '--to', url], { cwd: dir.path, env: env() }, { afterRead: () => suite.consul.kv.put('push-race/defaults', other) });
    assert.equal(changed.code, 3, changed.stderr);
    assert.equal(
      changed.stderr,
      'meshlet: push-race/defaults changed in Consul after this push read it (someone else pushed meanwhile), so it was not overwritten; nothing was written. Re-run meshlet push to see the diff against what is there now\n',
    );
    assert.equal((await suite.consul.kv.get('push-race/defaults'))?.value, other);
    assert.equal(await suite.consul.kv.get('push-race/services/payments'), undefined, 'push stopped at the first refused key');

    // A new key (cas=0: only if still absent) that another operator creates meanwhile.
    const created = await meshletInProcess(['push', file, '--to', url], { cwd: dir.path, env: env() }, { afterRead: () => suite.consul.kv.put('push-race/services/payments', '{}') });
    assert.equal(created.code, 3, created.stderr);
    assert.match(created.stderr, /^meshlet: push-race\/services\/payments changed in Consul .* 1 key written before it \(push-race\/defaults\), nothing after\. Re-run meshlet push/);
    assert.equal((await suite.consul.kv.get('push-race/services/payments'))?.value, '{}');

    // Re-run: the diff is against what is there now, and the push goes through.
    const rerun = await run(['push', file, '--to', url]);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(rerun.stdout, /^= push-race\/defaults \(unchanged\)$/m);
    assert.match(rerun.stdout, /^~ push-race\/services\/payments \(changed\)$/m);
  });

  it('--service pushes only that service; keys the file lacks are kept, and --prune deletes them', async () => {
    const url = consulUrl(suite.consul.url, 'push-scope');
    await suite.consul.kv.put('push-scope/defaults', '{"timeout": "1s"}');
    await suite.consul.kv.put('push-scope/services/old', '{"endpoints": ["127.0.0.1:9009"]}');
    const file = await dir.write('scope.json', { defaults: { timeout: '2s' }, services: { payments: { endpoints: ['127.0.0.1:9001'] } } });
    const one = await run(['push', file, '--to', url, '--service', 'payments']);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout.split('\n')[1], '+ push-scope/services/payments (new)');
    assert.doesNotMatch(one.stdout, /defaults|old/);
    assert.equal((await suite.consul.kv.get('push-scope/defaults'))?.value, '{"timeout": "1s"}');

    const kept = await run(['push', file, '--to', url]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stdout, /^ {2}push-scope\/services\/old \(in KV, not in the file: kept; --prune deletes it\)$/m);
    assert.notEqual(await suite.consul.kv.get('push-scope/services/old'), undefined);

    const pruned = await run(['push', file, '--to', url, '--prune']);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, /^- push-scope\/services\/old \(deleted: not in the file\)$/m);
    assert.equal(await suite.consul.kv.get('push-scope/services/old'), undefined);

    const absent = await run(['push', file, '--to', url, '--service', 'search']);
    assert.deepEqual([absent.code, absent.stderr], [2, 'meshlet: --service search: scope.json has no services.search to push\n']);
  });

  it('usage: --to is required and must be a consul:// URL with a prefix (exit 2); an unreachable agent is exit 4', async () => {
    const file = await dir.write('usage.json', { defaults: { timeout: '1s' } });
    const none = await meshletInProcess(['push', file], { cwd: dir.path }, {});
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^meshlet: --to consul:\/\/host:port\/prefix is required/);
    const http = await meshletInProcess(['push', file, '--to', 'http://127.0.0.1:8500/meshlet'], { cwd: dir.path }, {});
    assert.equal(http.code, 2);
    assert.match(http.stderr, /expected consul:\/\/host:port\/prefix/);
    const noPrefix = await meshletInProcess(['push', file, '--to', 'consul://127.0.0.1:8500'], { cwd: dir.path }, {});
    assert.equal(noPrefix.code, 2);
    assert.match(noPrefix.stderr, /name the KV prefix/);
    // A port nothing listens on (the emulator's own, briefly stopped, would do too).
    const down = await meshlet(['push', file, '--to', 'consul://127.0.0.1:1/meshlet'], { cwd: dir.path });
    assert.equal(down.code, 4);
    assert.match(down.stderr, /^meshlet: Consul at http:\/\/127\.0\.0\.1:1 could not be reached/);
  });
});

describe('meshlet push and get: the ACL token never appears in any output', () => {
  const secret = 'push-secret-0a1b2c3d';
  const suite = consulSuite(() => consulForTests({ acl: { defaultPolicy: 'deny', tokens: { [secret]: { policy: 'write' } } } }));
  const dir = suiteConfigDir();

  it('with the right token (env or --token-file) it works; a wrong one is exit 4 naming the 403; no output holds either token', async (t) => {
    if (emulatorOnly(t, suite.consul) === undefined) return;
    const url = consulUrl(suite.consul.url, 'push-acl');
    const file = await dir.write('acl.json', { defaults: { timeout: '1s' } });
    const tokenFile = await dir.write('token.txt', `${secret}\n`);
    const outputs: string[] = [];
    const pushed = await meshlet(['push', file, '--to', url], { cwd: dir.path, env: { CONSUL_HTTP_TOKEN: secret } });
    outputs.push(pushed.stdout, pushed.stderr);
    assert.equal(pushed.code, 0, pushed.stderr);
    const got = await meshlet(['get', url, '--token-file', tokenFile], { cwd: dir.path });
    outputs.push(got.stdout, got.stderr);
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual(JSON.parse(got.stdout), { defaults: { timeout: '1s' } });

    const wrong = 'wrong-secret-9z8y7x';
    const refused = await meshlet(['push', file, '--to', url, '--dry-run'], { cwd: dir.path, env: { CONSUL_HTTP_TOKEN: wrong } });
    outputs.push(refused.stdout, refused.stderr);
    assert.equal(refused.code, 4);
    assert.match(refused.stderr, /refused GET \/v1\/kv\/push-acl\/\?recurse with 403 \(ACL not found\): the ACL token is unknown/);
    // Consul filters a recursive read by ACL: without a token the prefix reads as empty.
    const anonymous = await meshlet(['get', url], { cwd: dir.path });
    outputs.push(anonymous.stdout, anonymous.stderr);
    assert.deepEqual([anonymous.code, anonymous.stdout], [0, '{}\n']);
    assert.match(anonymous.stderr, /^note: no keys under consul:\/\/127\.0\.0\.1:\d+\/push-acl; with Consul ACLs on, a token without key:read/);
    for (const output of outputs) {
      assert.doesNotMatch(output, new RegExp(`${secret}|${wrong}`));
    }
  });
});
