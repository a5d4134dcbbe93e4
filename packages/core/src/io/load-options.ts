/** Limits of every loader (`openPretrained`, `loadSafetensors`, `fromPretrained`); all optional. */
export interface LoadOptions {
  /** Give up when no data arrives for this many milliseconds, connecting included (default 30,000). */
  timeoutMs?: number;
  /** Cancels the load; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** The largest JSON or text file, in bytes (default 16 MiB). */
  maxTextBytes?: number;
  /**
   * The largest weights file, in bytes (default 4 GiB, the most one typed array holds in Node 20).
   * A safetensors download is also cut off at the size its own header declares.
   */
  maxWeightsBytes?: number;
  /**
   * Origins (`https://cdn.example.com`) that a redirect may lead to besides the file's own, or
   * `'any'`. Default: none, so a redirect to another host is refused. A redirect from https to
   * http is always refused.
   */
  redirectOrigins?: readonly string[] | 'any';
}

/** Every key of `LoadOptions` (checked complete by the compiler). */
const LOAD_OPTION_KEYS = Object.freeze({
  timeoutMs: true,
  signal: true,
  maxTextBytes: true,
  maxWeightsBytes: true,
  redirectOrigins: true,
} satisfies Record<keyof LoadOptions, true>);

/**
 * Splits options that extend `LoadOptions` into the load limits and the rest, for a loader that
 * passes the limits on and treats the other keys as its own (a pipeline's given components).
 */
export function splitLoadOptions<T extends LoadOptions>(options: T): [LoadOptions, Omit<T, keyof LoadOptions>] {
  const limits: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) (Object.hasOwn(LOAD_OPTION_KEYS, key) ? limits : rest)[key] = value;
  return [limits, rest as Omit<T, keyof LoadOptions>];
}

/** The default limits of `LoadOptions`. */
export const DEFAULT_LOAD_LIMITS = Object.freeze({
  timeoutMs: 30_000,
  maxTextBytes: 16 * 2 ** 20,
  maxWeightsBytes: 2 ** 32,
  /** Redirects followed for one file. */
  maxRedirects: 10,
});

/** `LoadOptions` with every limit filled in. */
export interface ResolvedLoadOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  maxTextBytes: number;
  maxWeightsBytes: number;
  redirectOrigins: readonly string[] | 'any';
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0)) throw new RangeError(`${name} must be a positive number, got ${String(value)}`);
  return value;
}

/** Fills in the defaults and checks the values. */
export function resolveLoadOptions(options: LoadOptions = {}): ResolvedLoadOptions {
  const origins = options.redirectOrigins ?? [];
  if (origins !== 'any' && !Array.isArray(origins)) throw new TypeError("redirectOrigins must be a list of origins or 'any'");
  return {
    timeoutMs: positive('timeoutMs', options.timeoutMs, DEFAULT_LOAD_LIMITS.timeoutMs),
    signal: options.signal,
    maxTextBytes: positive('maxTextBytes', options.maxTextBytes, DEFAULT_LOAD_LIMITS.maxTextBytes),
    maxWeightsBytes: positive('maxWeightsBytes', options.maxWeightsBytes, DEFAULT_LOAD_LIMITS.maxWeightsBytes),
    redirectOrigins: origins === 'any' ? 'any' : origins.map((origin: string) => new URL(origin).origin),
  };
}

/** What a read is for: the limit that applies to it. */
export type ReadKind = 'text' | 'weights';
