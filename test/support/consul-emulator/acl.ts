/**
 * ACL tokens, reduced to what meshlet's failure modes need (ACLERR, HTTPGO, issue #10222):
 * an unknown secret is refused with 403 `ACL not found` whatever it asks for; a known token (or
 * the anonymous one, under the default policy) lacking a permission gets 403 `Permission
 * denied` on a single read or a write, while recursive reads are filtered (nothing visible →
 * 404, as KV lists return it). With no `acl` option ACLs are disabled: every token works and
 * the default policy reported is `allow`, as a dev agent reports it.
 */
import { HttpError } from './http-error.ts';

export interface AclToken {
  /** read: every read; write: reads and writes; management: everything. */
  readonly policy: 'read' | 'write' | 'management';
  /** Limits KV access to keys under this prefix (other keys are denied / filtered). */
  readonly keyPrefix?: string;
}

export interface AclOptions {
  readonly defaultPolicy: 'allow' | 'deny';
  /** Secret → token. The secret is what clients send; it is never logged. */
  readonly tokens: Readonly<Record<string, AclToken>>;
}

export type Access = 'read' | 'write';

export interface Identity {
  /** Whether the request ran as the anonymous token (no token sent). */
  readonly anonymous: boolean;
  /** `key` is given for KV; other resources (services, config entries) pass none. */
  allows(access: Access, key?: string): boolean;
}

const EVERYTHING: Identity = { anonymous: true, allows: () => true };
const NOTHING: Identity = { anonymous: true, allows: () => false };

export class Acl {
  readonly #options: AclOptions | undefined;

  constructor(options: AclOptions | undefined) {
    this.#options = options;
  }

  get enabled(): boolean {
    return this.#options !== undefined;
  }

  get defaultPolicy(): 'allow' | 'deny' {
    return this.#options?.defaultPolicy ?? 'allow';
  }

  /** Who a request runs as; throws 403 `ACL not found` for a secret nobody issued. */
  resolve(secret: string | undefined): Identity {
    const options = this.#options;
    if (options === undefined) return EVERYTHING;
    if (secret === undefined || secret === '') return options.defaultPolicy === 'allow' ? EVERYTHING : NOTHING;
    const token = Object.hasOwn(options.tokens, secret) ? options.tokens[secret] : undefined;
    if (token === undefined) throw new HttpError(403, 'ACL not found');
    return {
      anonymous: false,
      allows: (access, key) => {
        if (key !== undefined && token.keyPrefix !== undefined && !key.startsWith(token.keyPrefix)) return false;
        return access === 'read' || token.policy !== 'read';
      },
    };
  }
}

/** Throws Consul's 403 `Permission denied` unless `identity` may do `access`. */
export function demand(identity: Identity, access: Access, key?: string): void {
  if (!identity.allows(access, key)) throw new HttpError(403, 'Permission denied');
}

/**
 * The token a request carries, in Consul's order (HTTPGO `parseTokenInternal`): `?token=`,
 * then `X-Consul-Token`, then `Authorization: Bearer <token>` (scheme case-insensitive).
 */
export function requestToken(params: URLSearchParams, headers: Record<string, string | string[] | undefined>): string | undefined {
  const fromQuery = params.get('token');
  if (fromQuery !== null && fromQuery !== '') return fromQuery;
  const header = headers['x-consul-token'];
  if (typeof header === 'string' && header !== '') return header;
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const [scheme, value] = authorization.trim().split(/\s+/);
    if (scheme?.toLowerCase() === 'bearer' && value !== undefined && value !== '') return value;
  }
  return undefined;
}
