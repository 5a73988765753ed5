/**
 * `mesh.fetch()`: the WHATWG fetch shape over the same stack. The URL's host is the logical
 * service name (`http://payments/charge`); the answer is a standard `Response`.
 */
import { Readable } from 'node:stream';
import { MeshError } from '../core/errors.ts';
import { redactError } from '../core/redact.ts';
import type { MeshResponse } from '../core/service.ts';
import type { RequestOptions } from './request-options.ts';

type Call = (service: string, options: RequestOptions) => Promise<MeshResponse>;

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

export async function meshFetch(call: Call, input: string | URL | Request, init?: RequestInit): Promise<Response> {
  let request: Request;
  try {
    request = new Request(input, init);
  } catch (error) {
    // NOTE: the platform's message quotes the URL, credentials and all: report it redacted.
    throw redactError(new MeshError('MESH_BAD_REQUEST', `mesh.fetch: ${(error as Error).message}`, { cause: error }));
  }
  const url = new URL(request.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new MeshError('MESH_BAD_REQUEST', `mesh.fetch needs an http(s) URL whose host is a service name, got ${url.protocol}`);
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers) headers[name] = value;
  let body: Buffer | null = null;
  if (request.body !== null) body = Buffer.from(await request.arrayBuffer());
  const response = await call(url.hostname, {
    method: request.method,
    path: `${url.pathname}${url.search}`,
    headers,
    body,
    signal: init?.signal ?? undefined,
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
