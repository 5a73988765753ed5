/**
 * Query parameters read in place from the request's `path` (`/a?x=1&y=2`), scanned only when a
 * route asks about one, never parsed into a URLSearchParams: a route match on the hot path must
 * not allocate. Names compare as written (not percent-decoded); a value is percent-decoded only
 * when it holds a `%`, which is the one case that allocates. The first occurrence of a name wins
 * (Envoy keeps the first too). `+` is a literal `+` (RFC 3986; form encoding is not assumed).
 */

/**
 * Index where the value of the first parameter called `name` starts, or -1 when the query has
 * no such parameter. A parameter without `=` has an empty value (its start is its end).
 * `queryStart` is the index of the `?` (or the path's length when there is none).
 */
export function queryValueStart(path: string, queryStart: number, name: string): number {
  const end = fragmentStart(path, queryStart);
  let at = queryStart + 1;
  while (at < end) {
    let next = path.indexOf('&', at);
    if (next === -1 || next > end) next = end;
    const keyEnd = at + name.length;
    if (keyEnd <= next && path.startsWith(name, at) && (keyEnd === next || path.charCodeAt(keyEnd) === 0x3d /* = */)) {
      return keyEnd === next ? keyEnd : keyEnd + 1;
    }
    at = next + 1;
  }
  return -1;
}

/** Index just past the value that starts at `start`. */
export function queryValueEnd(path: string, start: number): number {
  const end = fragmentStart(path, start);
  const next = path.indexOf('&', start);
  return next === -1 || next > end ? end : next;
}

/** True when the value at [start, end) equals `expected` once percent-decoded. */
export function queryValueEquals(path: string, start: number, end: number, expected: string): boolean {
  if (!hasEscape(path, start, end)) return end - start === expected.length && path.startsWith(expected, start);
  return decodedValue(path, start, end) === expected;
}

/** The value's percent-escapes, or undefined when it has none (then match it in place). */
export function escapedValue(path: string, start: number, end: number): string | undefined {
  return hasEscape(path, start, end) ? decodedValue(path, start, end) : undefined;
}

function hasEscape(path: string, start: number, end: number): boolean {
  const at = path.indexOf('%', start);
  return at !== -1 && at < end;
}

function decodedValue(path: string, start: number, end: number): string {
  const raw = path.slice(start, end);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw; // a malformed escape is matched as written
  }
}

function fragmentStart(path: string, from: number): number {
  const hash = path.indexOf('#', from);
  return hash === -1 ? path.length : hash;
}
