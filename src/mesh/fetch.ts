/**
 * `mesh.fetch()`: the WHATWG fetch shape over the same stack. The URL's host is the logical
 * service name (`http://payments/charge`); the answer is a standard `Response`.
 *
 * A `Request` given as input is honoured as fetch honours it (issue 9, defect 8): its
 * method, headers, body and signal, each overridden by the same member of `init` when that
 * is given. Whatever meshlet cannot honour (`fetch-init.ts` has the table) is refused with
 * MESH_BAD_REQUEST rather than dropped.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { invalidArgument } from '../core/mesh-errors.ts';
import { redactError } from '../core/redact.ts';
import type { MeshResponse, RequestBody } from '../core/service.ts';
import { describe } from './call-argument-error.ts';
import { checkFetchInit, checkFetchRequest, fetchRefused } from './fetch-init.ts';
import type { RequestOptions } from './request-options.ts';

type Call = (service: string, options: RequestOptions) => Promise<MeshResponse>;

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/**
 * NOTE: undici links a Request's signal to the signal it was built with through a WeakRef,
 * dropped when the Request is collected; a call in flight holds the signal, not the Request,
 * so without this a collected Request would leave the caller's abort unheard. Each Request
 * here lives as long as its signal does.
 */
const requestOfSignal = new WeakMap<AbortSignal, Request>();

export async function meshFetch(call: Call, input: string | URL | Request, init?: RequestInit): Promise<Response> {
  checkFetchInit(init);
  // Checked before the Request is built: its constructor's error quotes the URL, credentials and all.
  checkServiceUrl(input);
  let request: Request;
  try {
    request = new Request(input, init);
  } catch (error) {
    // NOTE: the platform's message quotes the URL, credentials and all: report it redacted.
    throw redactError(invalidArgument('mesh.fetch', (error as Error).message, error));
  }
  checkFetchRequest(request);
  const url = new URL(request.url);
  const response = await call(url.hostname, {
    method: request.method,
    path: `${url.pathname}${url.search}`,
    headers: request.headers,
    body: await requestBody(request, init),
    signal: callerSignal(input, init),
  });
  const responseHeaders = new Headers();
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) responseHeaders.append(name, v);
    else responseHeaders.set(name, value);
  }
  if (NULL_BODY_STATUS.has(response.statusCode) || request.method === 'HEAD') {
    await response.body.dump();
    return new Response(null, { status: response.statusCode, headers: responseHeaders });
  }
  const stream = Readable.toWeb(response.body) as ReadableStream<Uint8Array>;
  return new Response(stream, { status: response.statusCode, headers: responseHeaders });
}

/**
 * The URL names a service, nothing else: an http(s) scheme, a host that is the service's
 * name, no port (discovery gives every endpoint its own; a port here would be ignored), no
 * credentials (refused without quoting them). A URL that does not parse is left to the
 * Request constructor to refuse.
 */
function checkServiceUrl(input: unknown): void {
  let text: string;
  if (typeof input === 'string') text = input;
  else if (input instanceof URL) text = input.href;
  else if (input instanceof Request) text = input.url;
  else throw fetchRefused(`input must be a URL string, a URL or a Request, got ${describe(input)}`);
  const url = URL.parse(text);
  if (url === null) return;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw fetchRefused(`needs an http(s) URL whose host is a service name, like http://payments/charge; got ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw fetchRefused('the URL carries credentials (user:password@), which meshlet never sends; remove them and set an `authorization` header instead');
  }
  if (url.port !== '') {
    throw fetchRefused(
      `the URL's port :${url.port} would be ignored: its host '${url.hostname}' is the logical service name, and discovery gives each endpoint its port; drop ':${url.port}'`,
    );
  }
}

/**
 * A body already in memory (a string, bytes, a Blob, FormData, URLSearchParams) is buffered,
 * so the call can be retried; a stream — `init.body` as a ReadableStream or async iterable,
 * or a Request's body, which is always one — is streamed as fetch streams it, and sent once.
 */
async function requestBody(request: Request, init: RequestInit | undefined): Promise<RequestBody> {
  if (request.body === null) return null;
  const given: unknown = init?.body;
  const streamed =
    given === undefined || given === null || given instanceof ReadableStream || typeof (given as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
  if (streamed) return Readable.fromWeb(request.body as NodeReadableStream<Uint8Array>);
  return Buffer.from(await request.arrayBuffer());
}

/** The caller's cancellation, by fetch's rule: `init.signal` when given (null: none), else the input Request's. */
function callerSignal(input: string | URL | Request, init: RequestInit | undefined): AbortSignal | undefined {
  if (init?.signal !== undefined) return init.signal ?? undefined;
  if (!(input instanceof Request)) return undefined;
  requestOfSignal.set(input.signal, input);
  return input.signal;
}
