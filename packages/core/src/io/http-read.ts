/**
 * Reads over http(s) with `fetch`, bounded: an idle timeout (connecting included), a size cap per
 * file (for safetensors also the size its header declares; a file's first bytes by a `Range`
 * request, for headers read before the data), redirects followed only to the same
 * origin (or to origins the caller allows, never from https to http), and an `AbortSignal`.
 * Every failure is a `LoadError` naming the URL, except an abort, which rejects with the signal's
 * reason.
 */
import { LoadError } from './load-error.js';
import { DEFAULT_LOAD_LIMITS, type ReadKind, type ResolvedLoadOptions } from './load-options.js';
import { declaredSafetensorsSize } from './safetensors.js';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** One download's timer and cancellation: the idle timeout restarts whenever data arrives. */
class Transfer {
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onAbort = (): void => this.controller.abort(this.options.signal?.reason);

  constructor(
    readonly source: string,
    private readonly options: ResolvedLoadOptions,
  ) {
    options.signal?.throwIfAborted();
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.touch();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Data arrived: restart the idle timeout. */
  touch(): void {
    clearTimeout(this.timer);
    const seconds = this.options.timeoutMs / 1000;
    this.timer = setTimeout(
      () => this.controller.abort(new LoadError('timeout', this.source, `no data for ${seconds} s (raise timeoutMs to wait longer)`)),
      this.options.timeoutMs,
    );
    (this.timer as { unref?: () => void }).unref?.();
  }

  close(): void {
    clearTimeout(this.timer);
    this.options.signal?.removeEventListener('abort', this.onAbort);
  }

  /** What to throw for `error` from fetch or a body read: the abort reason, or a network LoadError. */
  failure(error: unknown): unknown {
    if (this.controller.signal.aborted) return this.controller.signal.reason;
    if (error instanceof LoadError) return error;
    const cause = (error as { cause?: { message?: string; code?: string } }).cause;
    const detail = cause?.message ?? cause?.code;
    return new LoadError('network', this.source, `could not fetch: ${(error as Error).message}${detail ? ` (${detail})` : ''}`, {
      cause: error,
    });
  }
}

/** Refuses a redirect from `from` to `to` unless the options allow it. */
function checkRedirect(source: string, start: URL, from: URL, to: URL, options: ResolvedLoadOptions): void {
  if (to.protocol !== 'http:' && to.protocol !== 'https:') {
    throw new LoadError('redirect', source, `redirected to ${to.protocol} URL ${to.href}, which is not http(s)`);
  }
  if (from.protocol === 'https:' && to.protocol === 'http:') {
    throw new LoadError('redirect', source, `redirected from https to plain http (${to.href})`);
  }
  if (to.origin === start.origin || options.redirectOrigins === 'any' || options.redirectOrigins.includes(to.origin)) return;
  throw new LoadError(
    'redirect',
    source,
    `redirected to ${to.href}, another origin; allow it with redirectOrigins: ['${to.origin}'] (or 'any')`,
  );
}

/** Cancels a body we will not read, ignoring failures (the connection is going away anyway). */
async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

/**
 * Fetches `url`, following redirects by hand so that each hop is checked. Browsers hide where a
 * manual redirect leads (`opaqueredirect`); there the request is repeated with `follow` and the
 * final URL checked before the body is used.
 */
async function fetchChecked(
  url: string,
  init: { method: 'GET' | 'HEAD'; headers?: Record<string, string> },
  transfer: Transfer,
  options: ResolvedLoadOptions,
): Promise<Response> {
  const start = new URL(url);
  let current = start;
  let method = init.method;
  for (let hop = 0; ; hop++) {
    let response: Response;
    try {
      response = await fetch(current, { method, headers: init.headers, redirect: 'manual', signal: transfer.signal });
      transfer.touch();
      if (response.type === 'opaqueredirect') {
        response = await fetch(current, { method, headers: init.headers, redirect: 'follow', signal: transfer.signal });
        transfer.touch();
        if (response.redirected) {
          try {
            checkRedirect(url, start, current, new URL(response.url), options);
          } catch (error) {
            await discard(response);
            throw error;
          }
        }
        return response;
      }
    } catch (error) {
      throw transfer.failure(error);
    }
    if (!REDIRECT_STATUSES.has(response.status)) return response;
    const location = response.headers.get('location');
    await discard(response);
    if (location === null) throw new LoadError('redirect', url, `HTTP ${response.status} redirect without a Location header`);
    if (hop >= DEFAULT_LOAD_LIMITS.maxRedirects)
      throw new LoadError('redirect', url, `more than ${DEFAULT_LOAD_LIMITS.maxRedirects} redirects`);
    const next = new URL(location, current);
    checkRedirect(url, start, current, next, options);
    if (response.status === 303) method = method === 'HEAD' ? 'HEAD' : 'GET';
    current = next;
  }
}

/** The next chunk of a body (`undefined` at its end); data restarts the idle timeout, a failure becomes the transfer's error. */
async function nextChunk(reader: ReadableStreamDefaultReader<Uint8Array>, transfer: Transfer): Promise<Uint8Array | undefined> {
  let result: ReadableStreamReadResult<Uint8Array>;
  try {
    result = await reader.read();
  } catch (error) {
    throw transfer.failure(error);
  }
  if (result.done) return undefined;
  transfer.touch();
  return result.value;
}

/** Reads the whole body into one array, refusing more than `limit` bytes (or, for weights, than the safetensors header declares). */
async function readBody(response: Response, transfer: Transfer, kind: ReadKind, options: ResolvedLoadOptions): Promise<Uint8Array> {
  const source = transfer.source;
  const limit = kind === 'weights' ? options.maxWeightsBytes : options.maxTextBytes;
  const limitName = kind === 'weights' ? 'maxWeightsBytes' : 'maxTextBytes';
  const announcedText = response.headers.get('content-length');
  const announced = announcedText === null || !/^\d+$/.test(announcedText.trim()) ? undefined : Number(announcedText);
  if (announced !== undefined && announced > limit) {
    await discard(response);
    throw new LoadError('too-large', source, `the server announces ${announced} bytes, more than the ${limit}-byte limit (${limitName})`);
  }
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  /** For weights: an array of the size the safetensors header declares, once the header has arrived. */
  let out: Uint8Array | undefined;
  /** For weights: where the safetensors header ends, once its length has arrived. */
  let headerEnd: number | undefined;
  const fail = async (error: unknown): Promise<never> => {
    await reader.cancel().catch(() => undefined);
    throw error;
  };
  for (;;) {
    const chunk = await nextChunk(reader, transfer);
    if (chunk === undefined) break;
    if (out !== undefined) {
      if (received + chunk.length > out.length) {
        return fail(
          new LoadError('too-large', source, `the server sends more than the ${out.length} bytes its safetensors header declares`),
        );
      }
      out.set(chunk, received);
      received += chunk.length;
      continue;
    }
    received += chunk.length;
    if (received > limit) return fail(new LoadError('too-large', source, `more than the ${limit}-byte limit (${limitName})`));
    chunks.push(chunk);
    if (kind !== 'weights') continue;
    // The header length, then the header: only then is the file's declared size known.
    if (received < 8) continue;
    if (headerEnd === undefined) {
      const first = concat(chunks, received);
      try {
        declaredSafetensorsSize(first.subarray(0, 8)); // checks the header length against its limit
      } catch (error) {
        return fail(error);
      }
      headerEnd = 8 + Number(new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true));
    }
    if (received < headerEnd && headerEnd <= limit) continue;
    const prefix = concat(chunks, received);
    let expected: number | undefined;
    try {
      expected = declaredSafetensorsSize(prefix);
    } catch (error) {
      return fail(error);
    }
    if (expected === undefined) {
      return fail(
        new LoadError(
          'too-large',
          source,
          `its safetensors header alone is ${headerEnd - 8} bytes, more than the ${limit}-byte limit (maxWeightsBytes)`,
        ),
      );
    }
    if (expected > limit) {
      return fail(
        new LoadError(
          'too-large',
          source,
          `its safetensors header declares ${expected} bytes, more than the ${limit}-byte limit (maxWeightsBytes)`,
        ),
      );
    }
    if (announced !== undefined && announced !== expected) {
      const fault = announced > expected ? 'too-large' : 'truncated';
      return fail(new LoadError(fault, source, `the server announces ${announced} bytes but the safetensors header declares ${expected}`));
    }
    if (received > expected)
      return fail(new LoadError('too-large', source, `the server sends more than the ${expected} bytes its safetensors header declares`));
    out = new Uint8Array(expected);
    out.set(prefix);
    chunks.length = 0;
  }
  if (out !== undefined) {
    if (received < out.length)
      throw new LoadError(
        'truncated',
        source,
        `the body ended after ${received} of the ${out.length} bytes its safetensors header declares`,
      );
    return out;
  }
  if (announced !== undefined && received < announced)
    throw new LoadError('truncated', source, `the body ended after ${received} of ${announced} bytes`);
  return concat(chunks, received);
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  chunks.length = 0;
  chunks.push(out);
  return out;
}

/** Throws a `LoadError` (`not-found` for 404, else `http-status`) for an error status, discarding the body. */
async function checkStatus(response: Response, url: string): Promise<void> {
  if (response.ok) return;
  await discard(response);
  const status = `HTTP ${response.status} ${response.statusText}`.trimEnd();
  throw new LoadError(response.status === 404 ? 'not-found' : 'http-status', url, status, { status: response.status });
}

/** The bytes at `url`, within the limits of `kind` (`text`: maxTextBytes; `weights`: a safetensors file). */
export async function readHttpBytes(url: string, kind: ReadKind, options: ResolvedLoadOptions): Promise<Uint8Array> {
  const transfer = new Transfer(url, options);
  try {
    const response = await fetchChecked(url, { method: 'GET' }, transfer, options);
    await checkStatus(response, url);
    return await readBody(response, transfer, kind, options);
  } finally {
    transfer.close();
  }
}

/**
 * The first `length` bytes at `url` (fewer when the file is shorter), with a `Range` request; a
 * server that ignores it and sends the whole file is read only as far as needed, then the download
 * is cancelled. Timeout, redirects and cancellation as for `readHttpBytes`; nothing past `length`
 * is kept, so no size cap is needed.
 */
export async function readHttpPrefix(url: string, length: number, options: ResolvedLoadOptions): Promise<Uint8Array> {
  const transfer = new Transfer(url, options);
  try {
    const response = await fetchChecked(
      url,
      { method: 'GET', headers: { Range: `bytes=0-${Math.max(0, length - 1)}` } },
      transfer,
      options,
    );
    if (response.status === 416) {
      // Range not satisfiable: the file is empty.
      await discard(response);
      return new Uint8Array(0);
    }
    await checkStatus(response, url);
    const out = new Uint8Array(length);
    let filled = 0;
    const reader = response.body?.getReader();
    if (reader === undefined) return out.subarray(0, 0);
    try {
      while (filled < length) {
        const chunk = await nextChunk(reader, transfer);
        if (chunk === undefined) break;
        const take = Math.min(chunk.length, length - filled);
        out.set(chunk.subarray(0, take), filled);
        filled += take;
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
    return out.subarray(0, filled);
  } finally {
    transfer.close();
  }
}

/** Whether `url` exists (HEAD, or a one-byte GET where HEAD is refused); redirects are checked as for reads. */
export async function httpExists(url: string, options: ResolvedLoadOptions): Promise<boolean> {
  const transfer = new Transfer(url, options);
  try {
    let response = await fetchChecked(url, { method: 'HEAD' }, transfer, options);
    await discard(response);
    if (response.status === 405 || response.status === 501) {
      // Servers without HEAD: ask for one byte instead.
      response = await fetchChecked(url, { method: 'GET', headers: { Range: 'bytes=0-0' } }, transfer, options);
      await discard(response);
    }
    return response.ok;
  } finally {
    transfer.close();
  }
}
