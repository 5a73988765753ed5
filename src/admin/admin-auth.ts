/**
 * Who may see the admin page. Without a token: loopback clients only, judged by the socket's
 * own peer address — never by `X-Forwarded-For` or any header a client writes — that also name
 * a loopback host (`Host: localhost`, `127.0.0.1`, `[::1]`): a web page the admin's own user
 * opens can rebind its DNS name to 127.0.0.1 and read the page from the browser, a loopback
 * peer, but its requests still carry its own name as Host. With a token:
 * every client, loopback included, must present it (`Authorization: Bearer <token>` or
 * `?token=`), because a reverse proxy on the same host makes every remote client look local.
 * The comparison is constant-time over SHA-256 digests, so neither the token's content nor its
 * length leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export type Verdict = { readonly allowed: true } | { readonly allowed: false; readonly status: 401 | 403; readonly message: string };

const ALLOWED: Verdict = { allowed: true };

/** 127.0.0.0/8, ::1, and the IPv4-mapped form of 127.0.0.0/8 a dual-stack socket reports. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  if (address === '::1' || address === '0:0:0:0:0:0:0:1') return true;
  const v4 = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** A Host header naming this machine's loopback (`localhost`, `*.localhost`, 127.0.0.0/8, `[::1]`, any port); absent counts (HTTP/1.0). */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return true;
  const lower = host.toLowerCase();
  if (lower.startsWith('[')) return /^\[(::1|0:0:0:0:0:0:0:1)\](:\d{1,5})?$/.test(lower);
  const name = lower.replace(/:\d{1,5}$/, '').replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost') || isLoopback(name);
}

export class AdminAuth {
  readonly #digest: Buffer | undefined;

  constructor(token: string | undefined) {
    this.#digest = token === undefined ? undefined : digest(token);
  }

  get tokenRequired(): boolean {
    return this.#digest !== undefined;
  }

  check(req: IncomingMessage, query: URLSearchParams): Verdict {
    if (this.#digest === undefined) {
      if (isLoopback(req.socket?.remoteAddress) && isLoopbackHost(req.headers.host)) return ALLOWED;
      return { allowed: false, status: 403, message: 'The meshlet admin page answers loopback clients only; configure adminHandler({ token }) to allow others (without one, a request must also name a loopback Host: localhost, 127.0.0.1 or [::1]).' };
    }
    const presented = bearerOf(req.headers.authorization) ?? queryToken(query);
    if (presented !== undefined && timingSafeEqual(digest(presented), this.#digest)) return ALLOWED;
    return { allowed: false, status: 401, message: 'The meshlet admin page needs its token: send "Authorization: Bearer <token>" or add ?token=<token>.' };
  }
}

/**
 * `?token=` as typed: form decoding reads a `+` as a space, and a token (which has no spaces)
 * made by `openssl rand -base64` has `+` in it, so a space goes back to the `+` it was.
 */
export function queryToken(query: URLSearchParams): string | undefined {
  return query.get('token')?.replaceAll(' ', '+');
}

function bearerOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
