/**
 * `meshlet validate <file>` run as a child process: the mesh's own check, every problem with
 * its path, exit codes 0 / 1 / 2; what it accepts a mesh accepts, what it refuses a mesh refuses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMesh, isMeshError } from '../../src/index.ts';
import { readConfigFile } from '../../src/cli/config-file.ts';
import { meshlet, meshletInProcess, suiteConfigDir } from './cli-harness.ts';

describe('meshlet validate', () => {
  const dir = suiteConfigDir();

  it('accepts a valid YAML config (exit 0) and names its services', async () => {
    const file = await dir.write('good.yaml', 'defaults:\n  timeout: 2s\nservices:\n  payments:\n    endpoints: ["127.0.0.1:9001"]\n    retry: { attempts: 3 }\n  search: { endpoints: ["127.0.0.1:9002"] }\n');
    const result = await meshlet(['validate', file], { cwd: dir.path });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'good.yaml is valid (2 services: payments, search)\n');
    assert.equal(result.stderr, '');
  });

  it('refuses an invalid config with exit 1 and every problem with its path', async () => {
    const file = await dir.write('bad.json', {
      defaults: { timeout: 'forever' },
      services: { payments: { endpoints: ['127.0.0.1:9001'], retry: { attempts: 0, tries: 2 } }, search: { balancer: 'fastest' } },
    });
    const result = await meshlet(['validate', file], { cwd: dir.path });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines[0], 'bad.json is invalid (4 problems):');
    const paths = lines.slice(1).map((line) => line.trim().split(':')[0]);
    assert.deepEqual(paths.sort(), ['defaults.timeout', 'services.payments.retry.attempts', 'services.payments.retry.tries', 'services.search.balancer']);
  });

  it('refuses what only resolution finds (cert without key), as a mesh does', async () => {
    const document = { services: { payments: { endpoints: ['127.0.0.1:9001'], tls: { cert: './client.pem' } } } };
    const file = await dir.write('mtls.json', document);
    const result = await meshlet(['validate', file], { cwd: dir.path });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /services\.payments\.tls\.key: cert and key go together/);
    await assert.rejects(createMesh({ service: 'x', config: document }), (error: unknown) => isMeshError(error) && /cert and key go together/.test(error.message));
  });

  it('reports a YAML syntax error with its line, and a missing or unknown-format file with exit 2', async () => {
    const broken = await dir.write('broken.yaml', 'services:\n  payments:\n    endpoints: [127.0.0.1:9001\n');
    const syntax = await meshlet(['validate', broken], { cwd: dir.path });
    assert.equal(syntax.code, 1);
    assert.match(syntax.stderr, /broken\.yaml is invalid.*\n.*YAML error at line \d+, column \d+/);
    const missing = await meshlet(['validate', 'absent.yaml'], { cwd: dir.path });
    assert.deepEqual([missing.code, missing.stderr], [2, 'meshlet: absent.yaml: cannot be read (no such file)\n']);
    const txt = await dir.write('mesh.txt', '{}');
    const format = await meshlet(['validate', txt], { cwd: dir.path });
    assert.equal(format.code, 2);
    assert.match(format.stderr, /must end in \.json, \.yaml or \.yml/);
  });

  it('a config validate accepts is one a mesh accepts, and one it refuses a mesh refuses (same files)', async () => {
    const cases: Record<string, object> = {
      'ok-1.json': { services: { a: { endpoints: ['127.0.0.1:1'], hedge: { after: '40ms' } } } },
      'ok-2.json': { defaults: { breaker: { errorRate: 0.5 } }, services: { a: { discovery: { type: 'consul' } } } },
      'bad-1.json': { services: { a: { endpoints: ['127.0.0.1:1'], concurrency: { max: 4, adaptive: true } } } },
      'bad-2.json': { services: { a: { endpoints: [] , balancer: { policy: 'ring-hash' } } }, extra: true },
      'bad-3.json': { services: { a: { endpoints: ['not a host'] } } },
    };
    for (const [name, document] of Object.entries(cases)) {
      await dir.write(name, document);
      // In-process (the same run() main.ts calls): five child processes would cost seconds.
      const cli = await meshletInProcess(['validate', name], { cwd: dir.path }, {});
      const mesh = await createMesh({ service: 'x', config: (await readConfigFile(name, dir.path)) as never }).then(
        async (created) => {
          await created.close();
          return 0;
        },
        (error: unknown) => (isMeshError(error) && error.code === 'MESH_CONFIG_INVALID' ? 1 : -1),
      );
      assert.equal(cli.code, mesh, `${name}: validate exit ${cli.code}, mesh ${mesh === 0 ? 'accepted' : 'refused'}: ${cli.stderr}`);
      assert.equal(cli.code, name.startsWith('ok') ? 0 : 1, `${name}: ${cli.stderr}`);
    }
  });

  it('usage errors: no command, an unknown command or option, a missing file argument (exit 2); --help documents the exit codes (exit 0)', async () => {
    const none = await meshlet([], { cwd: dir.path });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /Usage:/);
    const unknown = await meshletInProcess(['apply', 'x.yaml'], { cwd: dir.path }, {});
    assert.deepEqual([unknown.code, unknown.stderr.split('\n')[0]], [2, 'meshlet: unknown command "apply"; the commands are validate, push and get']);
    const option = await meshletInProcess(['validate', 'x.yaml', '--to', 'consul://h/p'], { cwd: dir.path }, {});
    assert.deepEqual([option.code, option.stderr.split('\n')[0]], [2, 'meshlet: validate takes no --to option']);
    const noFile = await meshletInProcess(['validate'], { cwd: dir.path }, {});
    assert.deepEqual([noFile.code, noFile.stderr.split('\n')[0]], [2, 'meshlet: validate takes one config file, got none']);
    const help = await meshlet(['--help'], { cwd: dir.path });
    assert.equal(help.code, 0);
    for (const code of ['0', '1', '2', '3', '4']) assert.match(help.stdout, new RegExp(`^  ${code}  `, 'm'));
  });
});
