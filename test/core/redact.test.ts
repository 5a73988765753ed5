import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMeshError, MeshError } from '../../src/core/errors.ts';
import { containsCredentials, isSecretName, redactConfigLine, redactError, redactText, redactValue } from '../../src/core/redact.ts';

describe('redactText', () => {
  const cases: [string, string][] = [
    ['http://user:S3cretPW@host:1', 'http://***@host:1'],
    ['https://TOKEN@github.com/org/repo', 'https://***@github.com/org/repo'],
    ['user:S3cretPW@host:1', '***@host:1'],
    ['token@host:1', '***@host:1'],
    ['redis://:S3cretPW@127.0.0.1:6379/0', 'redis://***@127.0.0.1:6379/0'],
    ['rediss://default:S3cretPW@cache:6380', 'rediss://***@cache:6380'],
    ['redis://127.0.0.1:6379/?password=S3cretPW&db=2', 'redis://127.0.0.1:6379/?password=***&db=2'],
    ['http://h/x?access_token=S3cretPW#top', 'http://h/x?access_token=***#top'],
    ['https://h/o?X-Amz-Signature=S3cretPW&X-Amz-Date=1', 'https://h/o?X-Amz-Signature=***&X-Amz-Date=1'],
    ['https://h/cb#id_token=S3cretPW', 'https://h/cb#id_token=***'],
    ['https://h/?apiKey=S3cretPW', 'https://h/?apiKey=***'],
    ['password=S3cretPW', 'password=***'],
    // the last '@' ends the userinfo, as the WHATWG URL parser reads it
    ['http://user:S3cret@PW@host/x', 'http://***@host/x'],
    // inside quotes, parentheses and sentences
    ['got "http://u:S3cretPW@h:1" (and user:S3cretPW@h:2), retry', 'got "http://***@h:1" (and ***@h:2), retry'],
  ];
  for (const [input, expected] of cases) {
    it(`redacts ${input}`, () => assert.equal(redactText(input), expected));
  }

  const untouched = [
    '127.0.0.1:9001',
    '[::1]:9001',
    'https://10.0.0.7:8443',
    'alice@example.com',
    'git@github.com:org/repo',
    'http://h/x?tokens=5&page=2',
    'passingOnly=true',
    'a plain sentence with no URL',
    'file:/srv/mesh.json',
  ];
  for (const input of untouched) {
    it(`leaves ${input} alone`, () => {
      assert.equal(redactText(input), input);
      assert.equal(containsCredentials(input), false);
    });
  }
});

describe('isSecretName', () => {
  it('knows secret-looking names by their last word, case-insensitively', () => {
    for (const name of ['password', 'PASSWORD', 'pass', 'pwd', 'token', 'access_token', 'api_key', 'apiKey', 'X-Amz-Signature', 'sig', 'auth', 'client_secret', 'db_password', 'key']) {
      assert.equal(isSecretName(name), true, name);
    }
    for (const name of ['tokens', 'passingOnly', 'page', 'db', 'keepAlive', 'signal', 'design']) assert.equal(isSecretName(name), false, name);
  });
});

describe('redactValue', () => {
  it('redacts every string and the string value of every secret-named key, and keeps the shape', () => {
    const value = {
      redis: 'redis://u:S3cretPW@h:1',
      list: ['user:S3cretPW@h:1', 3, null, true],
      token: 'S3cretPW',
      tokens: 7,
      tls: { key: '-----BEGIN PRIVATE KEY-----S3cretPW' },
      nested: { lastError: 'connect to http://h/?password=S3cretPW failed' },
    };
    assert.deepEqual(redactValue(value), {
      redis: 'redis://***@h:1',
      list: ['***@h:1', 3, null, true],
      token: '***',
      tokens: 7,
      tls: { key: '***' },
      nested: { lastError: 'connect to http://h/?password=*** failed' },
    });
    assert.equal(value.token, 'S3cretPW', 'the input is not modified');
  });
});

describe('redactConfigLine', () => {
  it("hides a secret-named key's scalar value on a JSON or YAML line (a comment too), as redactValue does, and URL credentials", () => {
    for (const [line, expected] of [
      ['  "auth": "required",', '  "auth": "***",'],
      ['\tpassword: tabpw', '\tpassword: ***'],
      ['- token: abc', '- token: ***'],
      ["api_key: 'single'", "api_key: '***'"],
      ['  # redis password: hunter2', '  # redis password: ***'],
      ['  "redis": "redis://:pw@h:1",', '  "redis": "redis://***@h:1",'],
    ]) {
      assert.equal(redactConfigLine(line!), expected, line);
    }
    for (const line of ['  "tokens": "x"', '  "key": {', '  "auth": "***",', '  "rps": 100,', 'auth: |', '  "note": "a***b"']) assert.equal(redactConfigLine(line), line);
  });
});

describe('redactError', () => {
  it('returns the error itself when it quotes no credential', () => {
    const error = new MeshError('MESH_TIMEOUT', 'call to "payments" timed out after 800ms', { service: 'payments' });
    assert.equal(redactError(error), error);
  });

  it('copies a MeshError with its message, issues and whole cause chain redacted', () => {
    const inner = new TypeError('bad URL http://user:S3cretPW@api/x', { cause: 'redis://:S3cretPW@h' });
    const error = new MeshError('MESH_CONFIG_INVALID', 'rejected user:S3cretPW@h:1', {
      service: 'payments',
      attempts: 2,
      issues: [{ path: 'services.p.endpoints.0', message: 'got "user:S3cretPW@h:1"' }],
      cause: new Error('wrapper', { cause: inner }),
    });
    const redacted = redactError(error);
    assert.ok(isMeshError(redacted));
    assert.equal(redacted.code, 'MESH_CONFIG_INVALID');
    assert.equal(redacted.service, 'payments');
    assert.equal(redacted.attempts, 2);
    assert.equal(redacted.message, 'rejected ***@h:1');
    assert.deepEqual(redacted.issues, [{ path: 'services.p.endpoints.0', message: 'got "***@h:1"' }]);
    const wrapper = redacted.cause as Error;
    assert.equal(wrapper.message, 'wrapper');
    const copiedInner = wrapper.cause as Error;
    assert.equal(copiedInner.name, 'TypeError', 'a foreign error keeps its name');
    assert.equal(copiedInner.message, 'bad URL http://***@api/x');
    assert.equal(copiedInner.cause, 'redis://***@h');
    let text = `${redacted.message} ${redacted.stack} ${JSON.stringify(redacted.issues)}`;
    for (let link: unknown = redacted.cause; link !== undefined; link = link instanceof Error ? link.cause : undefined) {
      text += ` ${link instanceof Error ? `${link.name} ${link.message} ${link.stack}` : String(link)}`;
    }
    assert.doesNotMatch(text, /S3cretPW/);
  });
});
