/**
 * A one-shot script, as a CLI, a cron job or a serverless handler is written: create a
 * mesh, make calls, print what they gave, and let Node exit when nothing is left to do.
 * liveness.test.ts runs it as a child process whose backends live in the parent, so the
 * only handles this process has are the mesh's own (issue 15). Nothing here keeps the
 * process alive on purpose: if a call's wait does not, Node exits with code 13 before the
 * result line is printed.
 *
 * Usage: node one-shot-call.ts '<plan as JSON>' (see `OneShotPlan`).
 */
import { createMesh, isMeshError, type Mesh, type MeshConfig } from '../../../src/index.ts';

export interface OneShotPlan {
  /** Bootstrap config. */
  readonly config?: MeshConfig;
  /** A control store URL, e.g. `file:/tmp/x/mesh.json`. */
  readonly control?: string;
  /** Calls made at once, each `GET /` to its service. */
  readonly calls: readonly string[];
  /** Whether the script ends with `mesh.close()`; without it, the process must still exit on its own. */
  readonly close: boolean;
  /** Leave every response body unread (a caller that only wanted the status). */
  readonly unreadBodies?: boolean;
}

/** What one call gave: its status, or the MeshError it failed with. */
export type OneShotResult = { readonly status: number } | { readonly code: string; readonly attempts: number | undefined; readonly message: string };

async function call(mesh: Mesh, service: string, unreadBody: boolean): Promise<OneShotResult> {
  try {
    const response = await mesh.client(service).request({ method: 'GET', path: '/' });
    if (!unreadBody) await response.body.text();
    return { status: response.statusCode };
  } catch (error) {
    if (!isMeshError(error)) throw error;
    return { code: error.code, attempts: error.attempts, message: error.message };
  }
}

const plan = JSON.parse(process.argv[2] ?? '') as OneShotPlan;
const mesh = await createMesh({ service: 'one-shot', config: plan.config, control: plan.control });
const results = await Promise.all(plan.calls.map((service) => call(mesh, service, plan.unreadBodies === true)));
process.stdout.write(`${JSON.stringify({ results })}\n`);
if (plan.close) await mesh.close();
