/**
 * The HTTP loader against a hostile server on 127.0.0.1 (issue 17): one that never answers, one
 * that stalls mid-body, huge or false Content-Lengths, bodies beyond what a safetensors header
 * declares, and redirects to another origin; header reads (Range requests) under the same bounds.
 * Timeouts are shortened to keep the tests fast.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoadError } from './load-error.js';
import { openPretrained } from './pretrained.js';
import { writeSafetensors } from './safetensors.js';
import { loadSafetensors } from './safetensors-file.js';
import { readSafetensorsHeader } from './safetensors-header.js';

const WEIGHTS = writeSafetensors({ w: { dtype: 'F32', shape: [4], data: Float32Array.from([1, 2, 3, 4]) } });
const QUICK = { timeoutMs: 250 };

/** A safetensors header claiming `bytes` bytes of data (no data follows). */
function headerClaiming(bytes: number): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify({ w: { dtype: 'U8', shape: [bytes], data_offsets: [0, bytes] } }));
  const out = new Uint8Array(8 + text.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  return out;
}

let main: Server;
let other: Server;
let base: string;
let otherBase: string;
const sockets = new Set<Socket>();
const requests: string[] = [];

function route(request: IncomingMessage, response: ServerResponse): void {
  const path = request.url ?? '/';
  requests.push(`${request.method} ${path}`);
  switch (path) {
    case '/silent/config.json':
    case '/silent/w.safetensors':
      return; // never answers
    case '/stall/config.json':
      response.writeHead(200, { 'Content-Length': '100' });
      response.write('{"a": ');
      return; // stalls mid-body
    case '/stall/w.safetensors':
      response.writeHead(200, { 'Content-Length': String(WEIGHTS.length) });
      response.write(WEIGHTS.subarray(0, WEIGHTS.length - 4));
      return;
    case '/huge/config.json':
      response.writeHead(200, { 'Content-Length': String(10 * 2 ** 30) });
      response.write('{');
      return;
    case '/huge/w.safetensors':
      response.writeHead(200, { 'Content-Length': String(10 * 2 ** 30) });
      response.write(WEIGHTS);
      return;
    case '/overflow/w.safetensors':
      // No Content-Length (chunked): the valid file, then more bytes than its header declares.
      response.writeHead(200);
      response.write(WEIGHTS);
      response.write(new Uint8Array(4096));
      response.end();
      return;
    case '/claims/w.safetensors':
      response.writeHead(200);
      response.write(headerClaiming(8 * 2 ** 30));
      return; // stalls after a header declaring 8 GiB
    case '/short/w.safetensors':
      response.writeHead(200);
      response.end(WEIGHTS.subarray(0, WEIGHTS.length - 4));
      return;
    case '/big/config.json': {
      response.writeHead(200);
      const line = `{"pad": "${'x'.repeat(64 * 1024)}"}`;
      for (let i = 0; i < 20; i++) response.write(line);
      response.end();
      return;
    }
    case '/ok/config.json':
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end('{"_class_name": "UNet2DModel"}');
      return;
    case '/ok/w.safetensors':
      response.writeHead(200);
      response.end(WEIGHTS);
      return;
    case '/same/w.safetensors':
      response.writeHead(302, { Location: '/ok/w.safetensors' });
      response.end();
      return;
    case '/cross/w.safetensors':
    case '/cross/config.json':
      response.writeHead(302, { Location: `${otherBase}/ok/${path.split('/').pop()}` });
      response.end();
      return;
    case '/loop/config.json':
      response.writeHead(307, { Location: '/loop/config.json' });
      response.end();
      return;
    default:
      response.writeHead(404);
      response.end();
  }
}

async function listen(server: Server): Promise<string> {
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  main = createServer(route);
  other = createServer(route);
  base = await listen(main);
  otherBase = await listen(other);
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all([main, other].map((server) => new Promise((resolve) => server.close(resolve))));
});

/** The LoadError a promise rejects with, and how long it took. */
async function loadFailure(promise: Promise<unknown>): Promise<{ error: LoadError; seconds: number }> {
  const started = performance.now();
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(LoadError);
  return { error: error as LoadError, seconds: (performance.now() - started) / 1000 };
}

describe('the HTTP loader is bounded', () => {
  it('gives up on a server that never answers, after the idle timeout', async () => {
    for (const load of [
      () => openPretrained(`${base}/silent`, QUICK).readJson('config.json'),
      () => loadSafetensors(`${base}/silent/w.safetensors`, QUICK),
    ]) {
      const { error, seconds } = await loadFailure(load());
      expect(error.fault).toBe('timeout');
      expect(error.message).toContain(`${base}/silent/`);
      expect(error.message).toMatch(/no data for 0\.25 s/);
      expect(seconds).toBeLessThan(5);
    }
  });

  it('gives up on a body that stalls midway', async () => {
    const json = await loadFailure(openPretrained(`${base}/stall`, QUICK).readJson('config.json'));
    expect(json.error.fault).toBe('timeout');
    const weights = await loadFailure(loadSafetensors(`${base}/stall/w.safetensors`, QUICK));
    expect(weights.error.fault).toBe('timeout');
  });

  it('refuses a huge Content-Length before reading the body', async () => {
    const json = await loadFailure(openPretrained(`${base}/huge`, QUICK).readJson('config.json'));
    expect(json.error.fault).toBe('too-large');
    expect(json.error.reason).toMatch(/announces 10737418240 bytes, more than the 16777216-byte limit \(maxTextBytes\)/);
    const weights = await loadFailure(loadSafetensors(`${base}/huge/w.safetensors`, QUICK));
    expect(weights.error.fault).toBe('too-large');
  });

  it('stops a safetensors download at the size its header declares', async () => {
    const overflow = await loadFailure(loadSafetensors(`${base}/overflow/w.safetensors`, QUICK));
    expect(overflow.error.fault).toBe('too-large');
    expect(overflow.error.reason).toMatch(/more than the \d+ bytes its safetensors header declares/);
    const claims = await loadFailure(loadSafetensors(`${base}/claims/w.safetensors`, QUICK));
    expect(claims.error.reason).toMatch(/declares 8589934\d+ bytes, more than the 4294967296-byte limit \(maxWeightsBytes\)/);
    expect(claims.seconds).toBeLessThan(0.25 * 4);
    const short = await loadFailure(loadSafetensors(`${base}/short/w.safetensors`, QUICK));
    expect(short.error.fault).toBe('truncated');
    const file = await loadSafetensors(`${base}/ok/w.safetensors`, QUICK);
    expect(Array.from(file.tensors.w.data as Float32Array)).toEqual([1, 2, 3, 4]);
  });

  it('caps JSON at maxTextBytes (16 MiB by default), raised by the option', async () => {
    const small = await loadFailure(openPretrained(`${base}/big`, { ...QUICK, maxTextBytes: 2 ** 20 }).readJson('config.json'));
    expect(small.error.fault).toBe('too-large');
    expect(small.error.reason).toMatch(/1048576-byte limit \(maxTextBytes\)/);
    await expect(openPretrained(`${base}/big`, QUICK).readText('config.json')).resolves.toHaveLength(20 * (64 * 1024 + 11));
  });

  it('follows redirects within the origin, refuses another origin unless allowed', async () => {
    const same = await loadSafetensors(`${base}/same/w.safetensors`, QUICK);
    expect(same.tensors.w.shape).toEqual([4]);
    const cross = await loadFailure(loadSafetensors(`${base}/cross/w.safetensors`, QUICK));
    expect(cross.error.fault).toBe('redirect');
    expect(cross.error.reason).toContain(`redirectOrigins: ['${otherBase}']`);
    await expect(openPretrained(`${base}/cross`, QUICK).exists('config.json')).rejects.toMatchObject({ fault: 'redirect' });
    requests.length = 0;
    await expect(openPretrained(`${base}/cross`, QUICK).readJson('config.json')).rejects.toThrow(LoadError);
    expect(requests).toEqual(['GET /cross/config.json']); // the other origin was never asked
    const allowed = await loadSafetensors(`${base}/cross/w.safetensors`, { ...QUICK, redirectOrigins: [otherBase] });
    expect(allowed.tensors.w.shape).toEqual([4]);
    const any = openPretrained(`${base}/cross`, { ...QUICK, redirectOrigins: 'any' });
    expect((await any.readJson('config.json'))._class_name).toBe('UNet2DModel');
    const loop = await loadFailure(openPretrained(`${base}/loop`, QUICK).readJson('config.json'));
    expect(loop.error.reason).toMatch(/more than 10 redirects/);
  });

  it('rejects with the reason of an AbortSignal', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    setTimeout(() => controller.abort(reason), 50);
    await expect(loadSafetensors(`${base}/silent/w.safetensors`, { signal: controller.signal })).rejects.toBe(reason);
    await expect(openPretrained(`${base}/ok`, { signal: AbortSignal.abort(reason) }).readJson('config.json')).rejects.toBe(reason);
  });

  it('reads safetensors headers (Range requests) within the same bounds', async () => {
    const silent = await loadFailure(readSafetensorsHeader(`${base}/silent/w.safetensors`, QUICK));
    expect(silent.error.fault).toBe('timeout');
    const cross = await loadFailure(openPretrained(`${base}/cross`, QUICK).readSafetensorsHeader('w.safetensors'));
    expect(cross.error.fault).toBe('redirect');
    const allowed = await readSafetensorsHeader(`${base}/cross/w.safetensors`, { ...QUICK, redirectOrigins: [otherBase] });
    expect(allowed.tensors.w).toMatchObject({ dtype: 'F32', shape: [4], byteLength: 16 });
    // A server that stalls after the header: the header alone is read, the stall never reached.
    const claims = await readSafetensorsHeader(`${base}/claims/w.safetensors`, QUICK);
    expect(claims.tensors.w.byteLength).toBe(8 * 2 ** 30);
    const missing = await loadFailure(openPretrained(`${base}/ok`, QUICK).readSafetensorsHeader('absent.safetensors'));
    expect(missing.error.fault).toBe('not-found');
  });

  it('checks the options', () => {
    expect(() => openPretrained(base, { timeoutMs: -1 })).toThrow(/timeoutMs must be a positive number/);
    expect(() => openPretrained(base, { maxTextBytes: Number.NaN })).toThrow(RangeError);
  });
});
