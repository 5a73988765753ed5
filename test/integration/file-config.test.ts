/**
 * Hot reload from a watched file: a good edit takes effect without a restart and without
 * dropping the call in flight; a broken edit is rejected, reported, and the previous config
 * keeps serving; the last good config survives a restart through `cacheDir`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMesh, type Mesh, type MeshEvents } from '../../src/index.ts';
import { startBackend, type Backend } from '../support/http-backend.ts';

function nextEvent<K extends 'config' | 'config-rejected'>(mesh: Mesh, name: K, timeoutMs = 5000): Promise<MeshEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${name}' event within ${timeoutMs} ms`)), timeoutMs);
    const dispose = mesh.on(name, (event) => {
      clearTimeout(timer);
      dispose();
      resolve(event);
    });
  });
}

async function servedBy(mesh: Mesh): Promise<number> {
  const res = await mesh.client('api').request({ path: '/' });
  return ((await res.body.json()) as { port: number }).port;
}

describe('file control store', () => {
  let dir: string;
  let file: string;
  let a: Backend;
  let b: Backend;
  let mesh: Mesh;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshlet-file-'));
    file = join(dir, 'mesh.json');
    a = await startBackend(async (req, res) => {
      if (req.url === '/slow') await new Promise((resolve) => setTimeout(resolve, 300));
      res.end(JSON.stringify({ port: a.port }));
    });
    b = await startBackend();
    await writeFile(file, JSON.stringify({ services: { api: { endpoints: [a.address] } } }));
    mesh = await createMesh({ service: 'web', control: `file:${file}`, cacheDir: join(dir, 'cache') });
  });

  after(async () => {
    await mesh.close();
    await a.close();
    await b.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts from the file', async () => {
    assert.equal(await servedBy(mesh), a.port);
  });

  it('applies a good edit without a restart, finishing the call in flight', async () => {
    const inFlight = mesh.client('api').request({ path: '/slow' });
    const applied = nextEvent(mesh, 'config');
    await writeFile(file, JSON.stringify({ services: { api: { endpoints: [b.address], timeout: '3s' } } }));
    const event = await applied;
    assert.deepEqual(event.changedServices, ['api']);
    assert.equal(await servedBy(mesh), b.port);
    const res = await inFlight;
    assert.equal(res.statusCode, 200);
    assert.equal(((await res.body.json()) as { port: number }).port, a.port);
  });

  it('rejects a broken edit and keeps serving the previous config', async () => {
    const rejected = nextEvent(mesh, 'config-rejected');
    await writeFile(file, '{ "services": { "api": { "endpoints": [');
    const event = await rejected;
    assert.ok(event.issues.length >= 1);
    assert.equal(await servedBy(mesh), b.port);
  });

  it('rejects a well-formed edit with an invalid value, naming its path', async () => {
    const rejected = nextEvent(mesh, 'config-rejected');
    await writeFile(file, JSON.stringify({ services: { api: { endpoints: [a.address], retry: { attempts: -2 } } } }));
    const event = await rejected;
    assert.ok(
      event.issues.some((issue) => issue.path === 'services.api.retry.attempts'),
      JSON.stringify(event.issues),
    );
    assert.equal(await servedBy(mesh), b.port);
    const state = mesh.state() as { config: { lastRejected: { issues: unknown[] } | null; rejections: number } };
    assert.ok(state.config.rejections >= 2);
    assert.ok(state.config.lastRejected !== null);
  });

  it('keeps the retry budget across an edit that leaves the budget alone, and starts a new one when it changes', async () => {
    const budgetCalls = (): number => ((mesh.state().services as Record<string, { budget: { calls: number } }>).api!.budget.calls);
    const apply = async (config: unknown): Promise<void> => {
      const applied = nextEvent(mesh, 'config');
      await writeFile(file, JSON.stringify(config));
      await applied;
    };
    await apply({ services: { api: { endpoints: [b.address], timeout: '2s' } } });
    for (let i = 0; i < 5; i++) await servedBy(mesh);
    const before = budgetCalls();
    assert.ok(before >= 5, `budget saw ${before} calls`);

    await apply({ services: { api: { endpoints: [b.address], timeout: '3s' } } });
    assert.equal(budgetCalls(), before, 'a timeout edit keeps the window of calls and retries');
    await servedBy(mesh);
    assert.equal(budgetCalls(), before + 1);

    await apply({ services: { api: { endpoints: [b.address], timeout: '3s', retry: { budget: { ratio: 0.5 } } } } });
    assert.equal(budgetCalls(), 0, 'a new budget policy starts a new budget');
  });

  it('restarts from the last good config in cacheDir when the file is gone', async () => {
    // The same file, gone (the copy stands in only for the store it was read from).
    await rename(file, `${file}.gone`);
    const restarted = await createMesh({ service: 'web', control: `file:${file}`, cacheDir: join(dir, 'cache') });
    try {
      assert.equal(await servedBy(restarted), b.port);
      const state = restarted.state() as { config: { source: string; control: { status: string } } };
      assert.match(state.config.source, /^cache:/);
      assert.equal(state.config.control.status, 'unavailable');
    } finally {
      await restarted.close();
    }
  });
});
