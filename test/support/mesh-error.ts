/** Asserts that a call fails with a MeshError of a given code, and hands the error (or its config issues) on for more checks. */
import assert from 'node:assert/strict';
import type { ConfigIssue } from '../../src/core/errors.ts';
import { isMeshError, type MeshError } from '../../src/index.ts';

/** Asserts that a call fails with a MeshError of `code`, and hands the error on for more checks. */
export async function expectMeshError(promise: Promise<unknown>, code: string): Promise<MeshError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isMeshError(error), `expected a MeshError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}, the call succeeded`);
}

/** The issues of the MESH_CONFIG_INVALID that `run` throws; fails if it throws anything else, or nothing. */
export function configIssuesOf(run: () => unknown): ConfigIssue[] {
  try {
    run();
  } catch (error) {
    assert.ok(isMeshError(error), `expected a MeshError, got ${String(error)}`);
    assert.equal(error.code, 'MESH_CONFIG_INVALID', error.message);
    return [...(error.issues ?? [])];
  }
  assert.fail('expected MESH_CONFIG_INVALID, the call succeeded');
}

/** The issues of the MESH_CONFIG_INVALID that `promise` rejects with. */
export async function configIssuesOfRejection(promise: Promise<unknown>): Promise<ConfigIssue[]> {
  return [...((await expectMeshError(promise, 'MESH_CONFIG_INVALID')).issues ?? [])];
}
