/**
 * Regression tests for "in-flight calls lose their endpoints" (issue 9, defect 4): a retry
 * after a membership change goes to the new endpoints; an endpoint that leaves drains (its
 * calls finish, nothing new goes there); `close()` stops admitting at once, lets the calls in
 * flight finish (retries included) up to its bound, and resolves when they have; calls queued
 * for a concurrency slot when the mesh closes get MESH_CLOSED.
 */
import assert from 'node:assert/strict';
import { rename, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createMesh } from '../../src/index.ts';
import { startBackend } from '../support/http-backend.ts';
import { statusOrCode } from '../support/outcome.ts';
import { suiteTempDir } from '../support/temp-dir.ts';

function later(ms: number, answer: (res: ServerResponse) => void): (req: unknown, res: ServerResponse) => void {
  return (_req, res) => {
    const timer = setTimeout(() => answer(res), ms);
    res.on('close', () => clearTimeout(timer));
  };
}

function unavailable(res: ServerResponse): void {
  res.statusCode = 503;
  res.end('unavailable');
}

function fine(res: ServerResponse): void {
  res.end('ok');
}

async function writeAtomically(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}

describe('membership changes and close() with calls in flight (issue 9, defect 4)', () => {
  const dir = suiteTempDir('meshlet-drain-');

  it('a retry after the endpoints were replaced goes to the new ones, and a leaving endpoint finishes its calls', async () => {
    const a = await startBackend(later(300, unavailable));
    const a2 = await startBackend(later(300, fine));
    const b = await startBackend();
    const path = join(dir(), 'mesh.json');
    const config = (endpoints: string[]) => JSON.stringify({ services: { api: { endpoints, balancer: 'round-robin', retry: { attempts: 3 } } } });
    await writeFile(path, config([a.address, a2.address]));
    const mesh = await createMesh({ service: 'caller', control: `file:${path}` });
    try {
      const calls = Array.from({ length: 40 }, (_, i) => statusOrCode(mesh.client('api').request({ path: `/in-flight-${i}` })));
      await new Promise((resolve) => setTimeout(resolve, 50));
      const applied = new Promise<void>((resolve) => {
        const stop = mesh.on('config', () => {
          stop();
          resolve();
        });
      });
      await writeAtomically(path, config([b.address]));
      await applied;
      const bBefore = b.received.length;
      const outcomes = await Promise.all(calls);
      assert.deepEqual(outcomes, Array(40).fill(200), 'every call was answered: by A2 (drained) or by B (the retries of A\'s 503s)');
      assert.equal(a.received.length + a2.received.length, 40, 'the first attempts went to the old endpoints');
      assert.equal(b.received.length - bBefore, 20, "every 503 from A was retried on B, the new endpoint");
      const fresh = await statusOrCode(mesh.client('api').request({ path: '/after' }));
      assert.equal(fresh, 200);
      assert.equal(a.received.length + a2.received.length, 40, 'nothing new went to the endpoints that left');
    } finally {
      await mesh.close();
      await Promise.all([a.close(), a2.close(), b.close()]);
    }
  });

  it('close() lets calls in flight finish, retries included, refuses new calls at once, and resolves after them', async () => {
    const a = await startBackend(later(150, unavailable));
    const a2 = await startBackend(later(150, fine));
    const mesh = await createMesh({
      service: 'caller',
      config: { services: { api: { endpoints: [a.address, a2.address], balancer: 'round-robin', retry: { attempts: 3 } } } },
    });
    try {
      const settled: number[] = [];
      const calls = Array.from({ length: 10 }, (_, i) =>
        statusOrCode(mesh.client('api').request({ path: `/c${i}` })).then((outcome) => {
          settled.push(performance.now());
          return outcome;
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      const closing = mesh.close();
      assert.equal(await statusOrCode(mesh.client('api').request({ path: '/late' })), 'MESH_CLOSED');
      await closing;
      const closedAt = performance.now();
      assert.deepEqual(await Promise.all(calls), Array(10).fill(200));
      assert.ok(
        settled.every((t) => t <= closedAt),
        'close() resolved only after every call in flight had settled',
      );
    } finally {
      await mesh.close();
      await Promise.all([a.close(), a2.close()]);
    }
  });

  it('close() gives calls waiting for a concurrency slot MESH_CLOSED, and the running call finishes', async () => {
    const slow = await startBackend(later(200, fine));
    const mesh = await createMesh({
      service: 'caller',
      config: { services: { api: { endpoints: [slow.address], concurrency: { max: 1, queue: 5, queueTimeout: '5s' } } } },
    });
    try {
      const running = statusOrCode(mesh.client('api').request({ path: '/running' }));
      await new Promise((resolve) => setTimeout(resolve, 20));
      const queued = [statusOrCode(mesh.client('api').request({ path: '/q1' })), statusOrCode(mesh.client('api').request({ path: '/q2' }))];
      await new Promise((resolve) => setTimeout(resolve, 20));
      await mesh.close();
      assert.deepEqual(await Promise.all(queued), ['MESH_CLOSED', 'MESH_CLOSED']);
      assert.equal(await running, 200);
      assert.equal(slow.received.length, 1, 'the queued calls were never sent');
    } finally {
      await slow.close();
    }
  });

  it('close({ timeout }) bounds the drain: a call still running then fails with MESH_CLOSED', async () => {
    const stuck = await startBackend(later(10_000, fine));
    const mesh = await createMesh({ service: 'caller', config: { services: { api: { endpoints: [stuck.address], timeout: '30s' } } } });
    try {
      const call = statusOrCode(mesh.client('api').request({ path: '/stuck' }));
      await new Promise((resolve) => setTimeout(resolve, 30));
      const started = performance.now();
      await mesh.close({ timeout: 150 });
      const took = performance.now() - started;
      assert.ok(took >= 140 && took < 1_000, `close took ${took.toFixed(0)} ms`);
      assert.equal(await call, 'MESH_CLOSED');
    } finally {
      await stuck.close();
    }
  });

  it('close() waits for a body the caller is still reading, up to its bound', async () => {
    const streaming = await startBackend((_req, res) => {
      res.writeHead(200);
      res.write('part;');
      setTimeout(() => res.end('end'), 150);
    });
    const mesh = await createMesh({ service: 'caller', config: { services: { api: { endpoints: [streaming.address] } } } });
    try {
      const res = await mesh.client('api').request({ path: '/stream' });
      const text = res.body.text();
      await mesh.close();
      assert.equal(await text, 'part;end');
    } finally {
      await streaming.close();
    }
  });
});
