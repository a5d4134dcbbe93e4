/** Why a file could not be loaded. */
export type LoadFault =
  /** The file does not exist (HTTP 404 or no such local file). */
  | 'not-found'
  /** The server answered with another error status (`status` holds it). */
  | 'http-status'
  /** The connection failed (refused, reset, DNS). */
  | 'network'
  /** No data arrived for `timeoutMs`. */
  | 'timeout'
  /** The file is larger than its limit (`maxTextBytes`, `maxWeightsBytes`, the size a safetensors header declares, an image's pixel cap). */
  | 'too-large'
  /** The body ended before the size it declared. */
  | 'truncated'
  /** A redirect was refused: to another origin, to plain http, or too many. */
  | 'redirect'
  /** A relative path leaves its base folder or URL, or carries a query or fragment. */
  | 'unsafe-path'
  /** Something that is not a file: a folder, an unsupported URL scheme. */
  | 'unsupported';

/**
 * The error every loader throws when a file cannot be fetched or read: `source` is the URL or
 * path, `fault` says what went wrong and `reason` says it in words (the message is both). Malformed
 * contents are not load errors: they throw `SafetensorsError` or `ConfigError`.
 */
export class LoadError extends Error {
  /** The URL or path that could not be loaded. */
  readonly source: string;
  /** What went wrong. */
  readonly fault: LoadFault;
  /** The reason in words, without the source. */
  readonly reason: string;
  /** The HTTP status, for `http-status` and `not-found` answers from a server. */
  readonly status?: number;

  constructor(fault: LoadFault, source: string, reason: string, options: { status?: number; cause?: unknown } = {}) {
    super(`cannot load ${source}: ${reason}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LoadError';
    this.source = source;
    this.fault = fault;
    this.reason = reason;
    this.status = options.status;
  }
}
