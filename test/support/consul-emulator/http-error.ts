/**
 * An error a handler raises to answer with a status and Consul's plain-text body, as Consul's
 * `wrap` does for `HTTPError{StatusCode, Reason}` and for ACL errors (HTTPGO).
 */
export class HttpError extends Error {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, body: string, headers: Record<string, string> = {}) {
    super(body);
    this.status = status;
    this.headers = headers;
  }
}
