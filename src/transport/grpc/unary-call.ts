/**
 * A unary call as meshlet's interceptor returns it to grpc-js. It holds what the caller sends
 * (metadata, the one message) until the caller half-closes, then runs the logical call down
 * the unary stack: each attempt is a fresh real call (attempt-transport.ts), and only the
 * result the stack settles on reaches the caller's listener — a retried attempt's failure is
 * never seen. Failures meshlet decided reach the caller as a status whose ServiceError has the
 * MeshError as `cause` (status.ts).
 */
import grpc from '@grpc/grpc-js';
import type { InterceptingListener, InterceptorOptions, Metadata, NextCall, StatusObject } from '@grpc/grpc-js';
import type { InterceptingCallInterface, MessageContext } from './grpc-types.ts';
import type { MeshResponse } from '../../core/service.ts';
import type { CallOwner } from './grpc-request.ts';
import type { GrpcResponse } from './grpc-request.ts';
import type { CallSpan } from './grpc-tracing.ts';
import type { ClientStacks } from './logical-call.ts';
import { statusOfError } from './status.ts';

export class UnaryCall implements InterceptingCallInterface, CallOwner {
  readonly stream = undefined;
  cancelled = false;
  span: CallSpan | undefined = undefined;
  readonly #stacks: ClientStacks;
  readonly #options: InterceptorOptions;
  readonly #nextCall: NextCall;
  #metadata: Metadata | undefined = undefined;
  #listener: Partial<InterceptingListener> | undefined = undefined;
  #message: unknown = undefined;
  #current: InterceptingCallInterface | undefined = undefined;
  #ended = false;
  /** Inside halfClose, where a refusal may come back synchronously. */
  #starting = false;
  /** Made only for a call that may be hedged (cancelSignal). */
  #cancel: AbortController | undefined = undefined;

  constructor(stacks: ClientStacks, options: InterceptorOptions, nextCall: NextCall) {
    this.#stacks = stacks;
    this.#options = options;
    this.#nextCall = nextCall;
  }

  start(metadata: Metadata, listener?: Partial<InterceptingListener>): void {
    this.#metadata = metadata;
    this.#listener = listener;
  }

  sendMessage(message: unknown): void {
    this.#message = message;
  }

  sendMessageWithContext(context: MessageContext, message: unknown): void {
    this.#message = message;
    context.callback?.();
  }

  startRead(): void {}

  halfClose(): void {
    if (this.cancelled) return;
    this.#starting = true;
    try {
      this.#stacks.run(this.#options, this.#nextCall, this.#metadata ?? new grpc.Metadata(), this.#message, this);
    } catch (error) {
      this.reject(error);
    }
    this.#starting = false;
  }

  /** The stack's answer (Reply). NOTE: never inside halfClose: grpc-js's caller must get its call object before its callback runs. */
  resolve(response: MeshResponse): void {
    if (this.#starting) queueMicrotask(() => this.#answer(response as GrpcResponse));
    else this.#answer(response as GrpcResponse);
  }

  reject(error: unknown): void {
    if (this.#starting) queueMicrotask(() => this.#end(statusOfError(error)));
    else this.#end(statusOfError(error));
  }

  attach(call: InterceptingCallInterface): void {
    this.#current = call;
  }

  detach(call: InterceptingCallInterface): void {
    if (this.#current === call) this.#current = undefined;
  }

  cancelSignal(): AbortSignal {
    this.#cancel ??= new AbortController();
    return this.#cancel.signal;
  }

  cancelWithStatus(code: grpc.status, details: string): void {
    if (this.#ended) return;
    this.cancelled = true;
    this.#cancel?.abort(new Error(`the caller cancelled the call: ${details}`));
    if (this.#current !== undefined) this.#current.cancelWithStatus(code, details);
    // No attempt on the wire (not started yet, or between attempts): the caller hears it now.
    else this.#end({ code, details, metadata: new grpc.Metadata() });
  }

  getPeer(): string {
    return this.#current?.getPeer() ?? '';
  }

  getAuthContext(): ReturnType<InterceptingCallInterface['getAuthContext']> {
    return this.#current?.getAuthContext() ?? null;
  }

  #answer(response: GrpcResponse): void {
    if (this.#ended) return;
    const listener = this.#listener;
    if (response.metadata !== undefined) listener?.onReceiveMetadata?.(response.metadata);
    if (response.message !== undefined) listener?.onReceiveMessage?.(response.message);
    this.#end(response.status);
  }

  #end(status: StatusObject): void {
    if (this.#ended) return;
    this.#ended = true;
    this.span?.end(status.code, status.details);
    this.#listener?.onReceiveStatus?.(status);
  }
}
