/**
 * A streaming call (server, client or bidi) as meshlet's interceptor returns it to grpc-js.
 * It runs through the stream stack (deadline, breaker, balancer: grpc-stack.ts) and makes one
 * attempt, never a retry: what the caller wrote and read cannot be replayed. The caller's
 * writes, half-close and reads made before the attempt's real call exists (the breaker decides
 * asynchronously) are queued and handed to it in order once it has started.
 */
import grpc from '@grpc/grpc-js';
import type { InterceptingListener, InterceptorOptions, Metadata, NextCall, StatusObject } from '@grpc/grpc-js';
import type { InterceptingCallInterface, MessageContext } from './grpc-types.ts';
import type { CallOwner, GrpcResponse, StreamListener } from './grpc-request.ts';
import type { CallSpan } from './grpc-tracing.ts';
import type { ClientStacks } from './logical-call.ts';
import type { MeshResponse } from '../../core/service.ts';
import { statusOfError } from './status.ts';

type Queued = { context: MessageContext; message: unknown } | 'half-close' | 'read';

export class StreamingCall implements InterceptingCallInterface, CallOwner {
  cancelled = false;
  span: CallSpan | undefined = undefined;
  stream: StreamListener | undefined = undefined;
  readonly #stacks: ClientStacks;
  readonly #options: InterceptorOptions;
  readonly #nextCall: NextCall;
  #listener: Partial<InterceptingListener> | undefined = undefined;
  #current: InterceptingCallInterface | undefined = undefined;
  #queued: Queued[] = [];
  #ended = false;
  /** Inside start, where a refusal may come back synchronously. */
  #starting = false;
  /** Made only for a stream an injected delay may hold (cancelSignal). */
  #cancel: AbortController | undefined = undefined;

  constructor(stacks: ClientStacks, options: InterceptorOptions, nextCall: NextCall) {
    this.#stacks = stacks;
    this.#options = options;
    this.#nextCall = nextCall;
  }

  start(metadata: Metadata, listener?: Partial<InterceptingListener>): void {
    this.#listener = listener;
    this.stream = {
      onReceiveMetadata: (headers: Metadata) => listener?.onReceiveMetadata?.(headers),
      onReceiveMessage: (message: unknown) => listener?.onReceiveMessage?.(message),
    };
    this.#starting = true;
    try {
      this.#stacks.run(this.#options, this.#nextCall, metadata, undefined, this);
    } catch (error) {
      this.reject(error);
    }
    this.#starting = false;
  }

  /** The stack's answer (Reply). NOTE: never inside start: grpc-js's caller finishes setting up its stream first. */
  resolve(response: MeshResponse): void {
    const status = (response as GrpcResponse).status;
    if (this.#starting) queueMicrotask(() => this.#end(status));
    else this.#end(status);
  }

  reject(error: unknown): void {
    if (this.#starting) queueMicrotask(() => this.#end(statusOfError(error)));
    else this.#end(statusOfError(error));
  }

  attach(call: InterceptingCallInterface): void {
    this.#current = call;
    for (const op of this.#queued) this.#forward(call, op);
    this.#queued = [];
  }

  sendMessageWithContext(context: MessageContext, message: unknown): void {
    this.#push({ context, message });
  }

  sendMessage(message: unknown): void {
    this.#push({ context: {}, message });
  }

  halfClose(): void {
    this.#push('half-close');
  }

  startRead(): void {
    this.#push('read');
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
    else this.#end({ code, details, metadata: new grpc.Metadata() });
  }

  getPeer(): string {
    return this.#current?.getPeer() ?? '';
  }

  getAuthContext(): ReturnType<InterceptingCallInterface['getAuthContext']> {
    return this.#current?.getAuthContext() ?? null;
  }

  #push(op: Queued): void {
    if (this.#ended) return;
    if (this.#current === undefined) this.#queued.push(op);
    else this.#forward(this.#current, op);
  }

  #forward(call: InterceptingCallInterface, op: Queued): void {
    if (op === 'half-close') call.halfClose();
    else if (op === 'read') call.startRead();
    else call.sendMessageWithContext(op.context, op.message);
  }

  #end(status: StatusObject): void {
    if (this.#ended) return;
    this.#ended = true;
    this.span?.end(status.code, status.details);
    // A write still queued was never sent: its callback hears that the call ended.
    for (const op of this.#queued) if (typeof op === 'object') op.context.callback?.(new Error(`call ended before the message was sent: ${status.details}`));
    this.#queued = [];
    this.#listener?.onReceiveStatus?.(status);
  }
}
