/**
 * meshlet's diagnostics channels (node:diagnostics_channel), the hooks any tool can subscribe
 * to without meshlet knowing it: APMs, the admin page's call statistics, a user's own logger.
 * Named as undici's are (`undici:request:create`): `meshlet:<subject>:<event>`.
 *
 * NOTE: publishing costs nothing while nobody subscribes: every publisher checks
 * `channel.hasSubscribers` before it builds a message, so an unwatched call allocates nothing here.
 *
 * Messages are plain data with bounded, non-secret content: the mesh's id (mesh-id.ts), service and route names, methods,
 * status codes, endpoint addresses (host:port, never credentials), error codes; never a path,
 * a query, a header value or a body.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { OutcomeKind } from '../core/outcome.ts';

/** A logical call started (once per `client.request()` / `mesh.fetch()`). */
export interface CallStartMessage {
  /** The mesh's id in this process (mesh-id.ts): the channels are shared by every mesh. */
  readonly mesh: number;
  readonly service: string;
  /** The route's name when the service is routed and the route has one. */
  readonly route: string | undefined;
  readonly method: string;
  /** Clock time (core/clock, monotonic ms) the call started. */
  readonly startedAt: number;
}

/** A logical call ended: its response head arrived, or it failed. */
export interface CallEndMessage extends CallStartMessage {
  readonly durationMs: number;
  /** The final response's status; undefined when the call failed without one. */
  readonly statusCode: number | undefined;
  /** The verdict on the final result (core/outcome.ts). */
  readonly outcome: OutcomeKind;
  /** The MeshError code when the call failed (`MESH_TIMEOUT`, …). */
  readonly errorCode: string | undefined;
  /** How many attempts were made (retries and hedges included). */
  readonly attempts: number;
}

/** One attempt left for an endpoint (after the balancer picked it). */
export interface AttemptStartMessage {
  readonly mesh: number;
  readonly service: string;
  /** 1 for the first try, 2, 3, … for retries; a hedge shares the number of the try it races. */
  readonly attempt: number;
  readonly hedge: boolean;
  /** The endpoint's address id (`127.0.0.1:9001`). */
  readonly endpoint: string;
  readonly method: string;
  readonly startedAt: number;
}

/** One attempt ended: its response head arrived, or it failed. */
export interface AttemptEndMessage extends AttemptStartMessage {
  readonly durationMs: number;
  readonly statusCode: number | undefined;
  readonly outcome: OutcomeKind;
  /** The retry condition the result matches (`'503'`, `'reset'`), when one does. */
  readonly condition: string | undefined;
  /** A low-cardinality error type when it failed (a MeshError code or a transport failure kind). */
  readonly errorType: string | undefined;
}

/** A config snapshot was applied (`applied`) or rejected (`rejected`). */
export interface ConfigMessage {
  readonly mesh: number;
  readonly kind: 'applied' | 'rejected';
  readonly source: string;
  /** The version in force after the event. */
  readonly version: number;
  readonly changedServices: readonly string[];
  /** Why it was rejected: `path: message` per issue (rejected only). */
  readonly issues: readonly string[];
}

/** An endpoint changed for a service: discovery added or removed it, outlier detection ejected or readmitted it. */
export interface EndpointMessage {
  readonly mesh: number;
  readonly service: string;
  readonly endpoint: string;
  readonly event: 'added' | 'removed' | 'ejected' | 'readmitted';
  readonly reason: string | undefined;
}

export const callStartChannel = diagnosticsChannel.channel('meshlet:call:start');
export const callEndChannel = diagnosticsChannel.channel('meshlet:call:end');
export const attemptStartChannel = diagnosticsChannel.channel('meshlet:attempt:start');
export const attemptEndChannel = diagnosticsChannel.channel('meshlet:attempt:end');
export const configChannel = diagnosticsChannel.channel('meshlet:config');
export const endpointChannel = diagnosticsChannel.channel('meshlet:endpoint');
