/**
 * grpc-js types its index does not export (the interceptor call's own interface), read from
 * the files that declare them. Types only: erased at run time, pinned by the peer range (~1.14).
 */
export type { InterceptingCallInterface } from '@grpc/grpc-js/build/src/client-interceptors.js';
export type { MessageContext } from '@grpc/grpc-js/build/src/call-interface.js';
