/**
 * Credentials never leave meshlet in anything it reports: errors, events, `state()`, spans,
 * the admin page. meshlet echoes values back so their author can fix them (a rejected
 * endpoint, a Redis URL in state, a URL given to `mesh.fetch`), and the author of
 * `http://user:PASSWORD@host:1` or `redis://host?password=…` must not find the password in a
 * log line or on a dashboard. This is the one place that knows what a credential looks like;
 * every echo goes through it, so a new kind of secret is taught here once.
 *
 * What counts as a credential: the userinfo of anything URL-like (`scheme://user:pw@host`,
 * `redis://:pw@host`, and `user:pw@host` or `token@host:1` without a scheme), and the value of any query
 * parameter or `name=value` pair whose name looks secret (password, token, key, auth,
 * signature, …). Over-redacting a harmless value costs a little clarity; under-redacting
 * costs a credential, so the rules lean wide.
 */

import { isMeshError, MeshError } from './errors.ts';

export const REDACTED = '***';

/**
 * A name is secret when, separators removed, it ends in one of these words: `password`,
 * `db_password`, `access_token`, `X-Amz-Signature`, `apiKey`, `client_secret`, `auth`.
 * `tokens` or `passingOnly` are not: the word must end the name.
 */
const SECRET_NAME = /(?:pass|passwd|password|pwd|secret|token|key|auth|authorization|signature|sig|credential|credentials|cookie)$/;

/** Pieces of text that can hold one URL: anything between spaces, quotes and brackets. */
const URL_LIKE = /[^\s"'`<>(){},\\|]+/g;

/** `name=value` at the start of a piece or after a query separator. */
const PARAMETER = /(^|[?&;#])([^=?&;#]+)=([^&;#]*)/g;

/** Verdicts on object keys, which repeat in every state() snapshot (bounded: keys are few). */
const keyVerdicts = new Map<string, boolean>();
const MAX_REMEMBERED_KEYS = 1024;

export function isSecretName(name: string): boolean {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name);
  } catch {
    // a malformed escape: judge the name as written
  }
  return SECRET_NAME.test(decoded.toLowerCase().replace(/[^a-z0-9]/g, ''));
}

/** The text with every credential replaced by `***`; the same string when it holds none. */
export function redactText(text: string): string {
  // NOTE: fast path: userinfo needs an '@' and a parameter an '='.
  if (!text.includes('@') && !text.includes('=')) return text;
  return text.replace(URL_LIKE, redactUrlLike);
}

/** True when `redactText` would change the text: it carries something that looks secret. */
export function containsCredentials(text: string): boolean {
  return redactText(text) !== text;
}

/** One `name: value` line of JSON or YAML (or a YAML comment holding one) whose value is a scalar, not `{`, `[` or a block. */
const KEY_LINE = /^(\s*(?:#\s*)?(?:-\s+)?)(["']?)([^"'\s:#-][^"':]*)\2(\s*:\s+)(["']?)([^\s{[|>&!#].*?)\5(,?)$/;

/**
 * One line of a JSON or YAML config document (a diff line) with its credentials shown as `***`:
 * redactText's, and the value of a secret-named key (`"token": "…"`, `password: …`) as
 * redactValue replaces it in the parsed document, so a diff hides what `meshlet get` hides.
 */
export function redactConfigLine(line: string): string {
  const match = KEY_LINE.exec(line);
  if (match === null || !isSecretName(match[3]!) || match[6] === REDACTED) return redactText(line);
  const [, lead, quote, name, colon, valueQuote, , comma] = match;
  return `${lead}${quote}${name}${quote}${colon}${valueQuote}${REDACTED}${valueQuote}${comma}`;
}

/**
 * The path (`services.api.limits.global.redis`) of the first string in plain data that holds
 * `***` where a credential goes, as redactValue leaves one; undefined when there is none. A
 * document printed redacted and written back would otherwise replace a password with `***`.
 */
export function redactedCredentialPath(input: unknown, path = ''): string | undefined {
  if (typeof input === 'string') {
    if (!input.includes(REDACTED)) return undefined;
    const filled = input.replaceAll(REDACTED, 'x');
    return (isSecretName(path.slice(path.lastIndexOf('.') + 1)) && input === REDACTED) || (filled !== input && redactText(filled) === input) ? path : undefined;
  }
  if (typeof input !== 'object' || input === null) return undefined;
  for (const [key, value] of Object.entries(input)) {
    const found = redactedCredentialPath(value, path === '' ? key : `${path}.${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Plain data (state, issues, a config dump) with every string redacted, and the string value
 * of every secret-named key (`token`, `password`, `tls.key`) replaced outright.
 */
export function redactValue<T>(value: T): T {
  return redactIn(value, false) as T;
}

/**
 * The error as it may be reported: itself when its message, issues and cause chain are free
 * of credentials, otherwise a copy with every message redacted. A MeshError stays a MeshError
 * (same code, service, attempts); a foreign error in the chain becomes an Error with its name
 * and redacted message, so the chain still says why.
 */
export function redactError<E extends Error>(error: E): E {
  return (errorCarriesCredentials(error, 0) ? copyRedacted(error, 0) : error) as E;
}

function redactUrlLike(piece: string): string {
  return redactParameters(redactUserinfo(piece));
}

function redactUserinfo(piece: string): string {
  const schemeEnd = piece.indexOf('://');
  const start = schemeEnd === -1 ? 0 : schemeEnd + 3;
  let end = start;
  while (end < piece.length && piece[end] !== '/' && piece[end] !== '?' && piece[end] !== '#') end++;
  // NOTE: the last '@' ends the userinfo, as the WHATWG URL parser reads `u:p@ss@host`.
  const at = piece.lastIndexOf('@', end - 1);
  if (at < start) return piece;
  // Without a scheme, `user:password@host` and `token@host:port` are credentials; `alice@example.com`
  // and `git@github.com:org/repo` are not.
  if (schemeEnd === -1 && !piece.slice(start, at).includes(':') && !/:\d+$/.test(piece.slice(at + 1, end))) return piece;
  return `${piece.slice(0, start)}${REDACTED}${piece.slice(at)}`;
}

function redactParameters(piece: string): string {
  if (!piece.includes('=')) return piece;
  return piece.replace(PARAMETER, (match: string, separator: string, name: string, value: string) =>
    value !== '' && isSecretName(name) ? `${separator}${name}=${REDACTED}` : match,
  );
}

function redactIn(input: unknown, secretKey: boolean): unknown {
  if (typeof input === 'string') return secretKey && input !== '' ? REDACTED : redactText(input);
  if (typeof input !== 'object' || input === null) return input;
  // As JSON.stringify would see it: state() is a JSON snapshot.
  if (typeof (input as { toJSON?: unknown }).toJSON === 'function') {
    const json = (input as { toJSON(): unknown }).toJSON();
    if (json !== input) return redactIn(json, secretKey);
  }
  if (Array.isArray(input)) return input.map((item) => redactIn(item, false));
  const result: Record<string, unknown> = {};
  for (const key in input) {
    if (Object.hasOwn(input, key)) result[key] = redactIn((input as Record<string, unknown>)[key], isSecretKey(key));
  }
  return result;
}

function isSecretKey(key: string): boolean {
  let verdict = keyVerdicts.get(key);
  if (verdict === undefined) {
    verdict = isSecretName(key);
    if (keyVerdicts.size < MAX_REMEMBERED_KEYS) keyVerdicts.set(key, verdict);
  }
  return verdict;
}

/** Cause chains are followed this deep; past it (a cyclic chain, say) the copy drops the cause. */
const MAX_CAUSE_DEPTH = 8;

function errorCarriesCredentials(error: unknown, depth: number): boolean {
  if (depth > MAX_CAUSE_DEPTH) return true;
  if (typeof error === 'string') return containsCredentials(error);
  if (!(error instanceof Error)) return false;
  if (containsCredentials(error.message)) return true;
  const issues = (error as { issues?: unknown }).issues;
  if (issues !== undefined && JSON.stringify(redactValue(issues)) !== JSON.stringify(issues)) return true;
  return error.cause !== undefined && errorCarriesCredentials(error.cause, depth + 1);
}

function copyRedacted(error: Error, depth: number): Error {
  const message = redactText(error.message);
  const cause = redactedCause(error.cause, depth + 1);
  const options = cause === undefined ? {} : { cause };
  if (isMeshError(error)) {
    return new MeshError(error.code, message, { ...options, service: error.service, attempts: error.attempts, issues: redactValue(error.issues) });
  }
  const copy = new Error(message, options);
  copy.name = error.name;
  return copy;
}

function redactedCause(cause: unknown, depth: number): unknown {
  if (cause === undefined || !errorCarriesCredentials(cause, depth)) return cause;
  if (depth > MAX_CAUSE_DEPTH) return undefined;
  return typeof cause === 'string' ? redactText(cause) : copyRedacted(cause as Error, depth);
}
