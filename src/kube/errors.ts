import { STATUS_CODES } from "node:http";

/** An error from the Kubernetes API, with the HTTP status and the API's machine-readable reason. */
export class ApiError extends Error {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly reason: string;

  constructor(method: string, path: string, status: number, reason: string, message: string) {
    super(`${method} ${path}: ${status} ${reason}: ${message}`);
    this.name = "ApiError";
    this.method = method;
    this.path = path;
    this.status = status;
    this.reason = reason;
  }

  /** The API's own message (a CEL rule's text, an admission policy's message), without the request line. */
  get apiMessage(): string {
    const prefix = `${this.method} ${this.path}: ${this.status} ${this.reason}: `;
    return this.message.startsWith(prefix) ? this.message.slice(prefix.length) : this.message;
  }

  static fromResponse(method: string, path: string, status: number, body: string): ApiError {
    let reason = STATUS_CODES[status] ?? "Unknown";
    let message = body.slice(0, 2000);
    try {
      const parsed = JSON.parse(body) as { reason?: string; message?: string };
      if (parsed.reason) reason = parsed.reason;
      if (parsed.message) message = parsed.message;
    } catch {
      // Not a Status object (a proxy's HTML page, say): keep the raw text.
    }
    return new ApiError(method, path, status, reason, message);
  }

  /** Connection refused, TLS failure, timeout: no HTTP status, so 0. */
  static transport(method: string, path: string, cause: unknown): ApiError {
    const err = cause as { message?: string; cause?: { message?: string; code?: string } };
    const detail = err.cause?.code ?? err.cause?.message ?? err.message ?? String(cause);
    return new ApiError(method, path, 0, "TransportError", detail);
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof ApiError && err.status === 409;
}

export function isGone(err: unknown): boolean {
  return err instanceof ApiError && err.status === 410;
}
