/**
 * `url.full` as meshlet reports it (the HTTP semantic conventions ask for it on client spans,
 * and ask instrumentations to strip credentials and sensitive query values): the endpoint's
 * origin, which never carries userinfo (discovery addresses are host and port), and the
 * request's path with every query VALUE replaced by `REDACTED`. Every value, not only the
 * secret-looking names core/redact.ts knows: a query may carry a signed URL's signature or a
 * user's e-mail under any name, and a trace backend is the wrong place to find either.
 * Names stay, so a reader still sees which parameters a call had; an item without `=` is
 * replaced whole. A fragment is dropped.
 */
export const REDACTED = 'REDACTED';

export function redactedUrl(origin: string, path: string): string {
  return origin + redactedPath(path);
}

export function redactedPath(path: string): string {
  const hash = path.indexOf('#');
  const clean = hash === -1 ? path : path.slice(0, hash);
  const query = clean.indexOf('?');
  if (query === -1) return clean;
  const params = clean.slice(query + 1);
  if (params === '') return clean;
  const names = params.split('&').map((pair) => {
    const equals = pair.indexOf('=');
    // A bare item (`?abc123`) may be a token itself: it goes too.
    return equals === -1 ? REDACTED : `${pair.slice(0, equals)}=${REDACTED}`;
  });
  return `${clean.slice(0, query)}?${names.join('&')}`;
}
