/** Asserts that a call fails with a MeshError of `code`, and hands the error on for more checks. */
import assert from 'node:assert/strict';
import { isMeshError, type MeshError } from '../../src/index.ts';

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
