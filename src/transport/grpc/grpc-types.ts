/**
 * grpc-js types its index does not export (the interceptor call's own interface), read from
 * the files that declare them. Types only: erased at run time, pinned by the peer range (~1.14).
 */
import type { Attempt } from '../../core/attempt.ts';
import type { MeshResponse } from '../../core/service.ts';

export type { InterceptingCallInterface } from '@grpc/grpc-js/build/src/client-interceptors.js';
export type { MessageContext } from '@grpc/grpc-js/build/src/call-interface.js';

/**
 * What an attempt tells its logical call's watcher (grpc-channels.ts GrpcCallWatch), as a shape
 * here so the request (grpc-request.ts) can hold one without importing the channels module,
 * which imports the stack that imports the request.
 */
export interface AttemptWatch {
  attemptStarted(attempt: Attempt): void;
  attemptEnded(attempt: Attempt, response: MeshResponse | undefined, error: unknown): void;
}
