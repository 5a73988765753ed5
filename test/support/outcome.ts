/**
 * A call's outcome as one comparable value: the status code of a response (its body drained),
 * or the `code` of the error it failed with. Lets a test assert a whole sequence at once.
 */
import type { MeshResponse } from '../../src/core/service.ts';

export function statusOrCode(call: Promise<MeshResponse>): Promise<number | string> {
  return call.then(
    async (res) => {
      await res.body.dump();
      return res.statusCode;
    },
    (error: { code: string }) => error.code,
  );
}
