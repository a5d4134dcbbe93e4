import { readFile } from 'node:fs/promises';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSafetensorsHeader, readSafetensors, SafetensorsError, writeSafetensors, type SafetensorsTensor } from './safetensors.js';
import { loadSafetensors, saveSafetensors } from './safetensors-file.js';

const FIXTURE = new URL('../../../../fixtures/diffusers/unet2d_tiny/diffusion_pytorch_model.safetensors', import.meta.url);

function build(header: object, data: Uint8Array): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

function expectFault(bytes: Uint8Array, pattern: RegExp, tensor?: string): void {
  try {
    readSafetensors(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(SafetensorsError);
    expect((error as Error).message).toMatch(pattern);
    if (tensor) expect((error as SafetensorsError).tensor).toBe(tensor);
    return;
  }
  throw new Error('expected a SafetensorsError');
}

describe('readSafetensors', () => {
  it('reads the Diffusers fixture exactly and writes it back byte for byte', async () => {
    const bytes = new Uint8Array(await readFile(FIXTURE));
    const file = readSafetensors(bytes);
    const names = Object.keys(file.tensors);
    expect(names).toHaveLength(144);
    const parameters = names.reduce((sum, name) => sum + file.tensors[name].data.length, 0);
    expect(parameters).toBe(702_499);
    expect(file.metadata).toEqual({ format: 'pt' });
    expect(Object.values(file.tensors).every((t) => t.dtype === 'F32')).toBe(true);
    expect(Buffer.from(writeSafetensors(file.tensors, file.metadata)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('round-trips every dtype, widening F16 and BF16 to float32', () => {
    const tensors: Record<string, SafetensorsTensor> = {
      a: { dtype: 'F64', shape: [2], data: Float64Array.from([1.5, -1e300]) },
      b: { dtype: 'F32', shape: [1, 2], data: Float32Array.from([0.25, -3]) },
      c: { dtype: 'F16', shape: [3], data: Float32Array.from([1, -0.5, 65504]) },
      d: { dtype: 'BF16', shape: [2], data: Float32Array.from([1, -2.5]) },
      e: { dtype: 'I64', shape: [2], data: BigInt64Array.from([1n, -(2n ** 40n)]) },
      f: { dtype: 'I32', shape: [2], data: Int32Array.from([7, -7]) },
      g: { dtype: 'U8', shape: [2], data: Uint8Array.from([0, 255]) },
      h: { dtype: 'BOOL', shape: [2], data: Uint8Array.from([1, 0]) },
      i: { dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
    };
    const file = readSafetensors(writeSafetensors(tensors, { note: 'x' }));
    expect(file.metadata).toEqual({ note: 'x' });
    for (const [name, tensor] of Object.entries(tensors)) {
      expect(file.tensors[name].dtype).toBe(tensor.dtype);
      expect(file.tensors[name].shape).toEqual(tensor.shape);
      expect(Array.from(file.tensors[name].data as ArrayLike<unknown>)).toEqual(Array.from(tensor.data as ArrayLike<unknown>));
    }
    expect(file.tensors.c.data).toBeInstanceOf(Float32Array);
  });

  it('names each fault', () => {
    const four = new Uint8Array(4);
    const ok = { t: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } };
    expect(() => readSafetensors(build(ok, four))).not.toThrow();
    expectFault(new Uint8Array(3), /shorter than/);
    const long = build(ok, four);
    new DataView(long.buffer).setBigUint64(0, 10_000n, true);
    expectFault(long, /beyond the end/);
    const huge = build(ok, four);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 62n, true);
    expectFault(huge, /limit/);
    const text = new TextEncoder().encode('{not json');
    const broken = new Uint8Array(8 + text.length);
    new DataView(broken.buffer).setBigUint64(0, BigInt(text.length), true);
    broken.set(text, 8);
    expectFault(broken, /not valid UTF-8 JSON/);
    expectFault(build([1, 2], new Uint8Array()), /must be a JSON object/);
    expectFault(build({ t: { dtype: 'F8', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)), /unknown or unsupported dtype/, 't');
    expectFault(build({ t: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, four), /non-negative integers/, 't');
    expectFault(build({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, four), /needs 8 bytes/, 't');
    expectFault(build({ t: { dtype: 'F32', shape: [1], data_offsets: [0, 8] } }, four), /beyond the 4 data bytes/, 't');
    expectFault(build({ t: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, four), /end before they begin/, 't');
    expectFault(
      build(
        { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [2, 6] } },
        new Uint8Array(8),
      ),
      /overlaps/,
      'b',
    );
    expectFault(build({ t: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)), /gap/, 't');
    expectFault(build(ok, new Uint8Array(6)), /2 trailing bytes/);
    expectFault(build({ __metadata__: { a: 1 }, ...ok }, four), /must be a string/);
  });

  it('decodes every dtype from a Node Buffer that is a slice of the shared pool (issue 17)', () => {
    const tensors: Record<string, SafetensorsTensor> = {
      a: { dtype: 'F64', shape: [2], data: Float64Array.from([1.5, -2]) },
      b: { dtype: 'F32', shape: [4], data: Float32Array.from([1, 2, 3, 4]) },
      c: { dtype: 'F16', shape: [4], data: Float32Array.from([1, 2, 3, 4]) },
      d: { dtype: 'BF16', shape: [4], data: Float32Array.from([1, 2, 3, 4]) },
      e: { dtype: 'I64', shape: [1], data: BigInt64Array.from([-5n]) },
      f: { dtype: 'I32', shape: [2], data: Int32Array.from([7, -7]) },
      g: { dtype: 'U8', shape: [4], data: Uint8Array.from([1, 2, 3, 4]) },
      h: { dtype: 'BOOL', shape: [2], data: Uint8Array.from([1, 0]) },
    };
    for (const [name, tensor] of Object.entries(tensors)) {
      // Buffer.from copies small inputs into the shared 8 KiB pool at a non-zero offset.
      const bytes = Buffer.from(writeSafetensors({ [name]: tensor }));
      expect(bytes.buffer.byteLength).toBeGreaterThan(bytes.length);
      const read = readSafetensors(bytes).tensors[name];
      expect(read.data.length).toBe(tensor.data.length);
      expect(Array.from(read.data as ArrayLike<unknown>)).toEqual(Array.from(tensor.data as ArrayLike<unknown>));
      expect(read.data.buffer.byteLength).toBe(read.data.byteLength);
    }
  });

  it('refuses a header nested 200,000 arrays deep with a SafetensorsError, not a stack overflow', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    const text = `{"t":{"dtype":"F32","shape":${deep},"data_offsets":[0,4]}}`;
    const encoded = new TextEncoder().encode(text);
    const bytes = new Uint8Array(8 + encoded.length + 4);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(encoded.length), true);
    bytes.set(encoded, 8);
    expectFault(bytes, /nest/);
    // Shallower nesting reaches the shape check, whose message stays short.
    expectFault(build({ t: { dtype: 'F32', shape: [[[[1]]]], data_offsets: [0, 4] } }, new Uint8Array(4)), /non-negative integers/, 't');
  });

  it('refuses a tensor name given twice', () => {
    const entry = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
    const text = `{"w":${entry},"w":${entry.replace('[0,4]', '[4,8]')}}`;
    const encoded = new TextEncoder().encode(text);
    const bytes = new Uint8Array(8 + encoded.length + 8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(encoded.length), true);
    bytes.set(encoded, 8);
    expectFault(bytes, /more than once/, 'w');
    // An escaped spelling of a name is the same name.
    const escaped = new TextEncoder().encode(`{"w":${entry},"\\u0077":${entry.replace('[0,4]', '[4,8]')}}`);
    const bytes2 = new Uint8Array(8 + escaped.length + 8);
    new DataView(bytes2.buffer).setBigUint64(0, BigInt(escaped.length), true);
    bytes2.set(escaped, 8);
    expectFault(bytes2, /more than once/, 'w');
  });

  it('keeps tensor and metadata names such as __proto__ as plain entries', () => {
    const tensors = Object.fromEntries([
      ['__proto__', { dtype: 'F32', shape: [1], data: Float32Array.from([2]) }],
      ['constructor', { dtype: 'U8', shape: [1], data: Uint8Array.from([3]) }],
    ]) as Record<string, SafetensorsTensor>;
    const metadata = Object.fromEntries([['__proto__', 'x']]) as Record<string, string>;
    const file = readSafetensors(writeSafetensors(tensors, metadata));
    expect(Object.keys(file.tensors).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.hasOwn(file.tensors, '__proto__')).toBe(true);
    expect(Array.from(file.tensors['__proto__'].data as Float32Array)).toEqual([2]);
    expect(Object.hasOwn(file.metadata, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(file.tensors)).toBe(Object.prototype);
  });

  it('refuses to write what it could not read back', () => {
    const write = (tensor: unknown) => () => writeSafetensors({ t: tensor as SafetensorsTensor });
    expect(write({ dtype: 'F32', shape: [3], data: new Float32Array(2) })).toThrow(/3 elements but data has 2/);
    expect(write({ dtype: 'F8', shape: [1], data: new Float32Array(1) })).toThrow(SafetensorsError);
    expect(write({ dtype: 'F32', shape: [-1], data: new Float32Array(0) })).toThrow(/non-negative integers/);
    expect(write({ dtype: 'I64', shape: [1], data: Float32Array.from([1.5]) })).toThrow(/not an integer/);
    expect(() => writeSafetensors({}, { a: 1 } as unknown as Record<string, string>)).toThrow(/must be a string/);
  });

  it('pads the header with spaces to a multiple of 8 bytes', () => {
    for (let length = 0; length < 9; length++) {
      const bytes = writeSafetensors({ ['x'.repeat(length)]: { dtype: 'U8', shape: [1], data: Uint8Array.from([1]) } });
      const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      expect(headerLength % 8).toBe(0);
      expect(readSafetensors(bytes).tensors['x'.repeat(length)].data).toEqual(Uint8Array.from([1]));
    }
  });

  it('survives 12,000 mutated files with only typed errors (fuzz)', () => {
    const seeds = [
      writeSafetensors(
        {
          weight: { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
          bias: { dtype: 'F16', shape: [3], data: Float32Array.from([0.5, 1, 2]) },
          steps: { dtype: 'I64', shape: [1], data: BigInt64Array.from([3n]) },
        },
        { format: 'pt' },
      ),
      writeSafetensors({
        a: { dtype: 'BF16', shape: [2], data: Float32Array.from([1, -2]) },
        b: { dtype: 'BOOL', shape: [1, 1], data: Uint8Array.from([1]) },
        c: { dtype: 'U8', shape: [3], data: Uint8Array.from([1, 2, 3]) },
        d: { dtype: 'F64', shape: [], data: Float64Array.from([Math.PI]) },
        e: { dtype: 'I32', shape: [0, 4], data: new Int32Array(0) },
      }),
      writeSafetensors({}, { only: 'metadata' }),
    ];
    const headerOf = (bytes: Uint8Array) => {
      const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
      return { text: new TextDecoder().decode(bytes.subarray(8, 8 + length)), data: bytes.subarray(8 + length) };
    };
    const withHeader = (text: string, data: Uint8Array) => {
      const encoded = new TextEncoder().encode(text);
      const out = new Uint8Array(8 + encoded.length + data.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(encoded.length), true);
      out.set(encoded, 8);
      out.set(data, 8 + encoded.length);
      return out;
    };
    const field = fc.constantFrom('dtype', 'shape', 'data_offsets', '__metadata__', '__proto__', 'weight', 'a');
    const odd = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(
        -1,
        1e300,
        2 ** 53,
        2 ** 64,
        0.5,
        'F32',
        'F16',
        'BOOL',
        'X',
        [0, 0],
        [0, 1e20],
        [-4, 4],
        [2 ** 60, 2 ** 60 + 4],
        [1e9, 1e9],
      ),
    );
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ maxLength: 16 }) }),
      fc.record({ kind: fc.constant('length' as const), value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
      fc.record({ kind: fc.constant('text' as const), at: fc.nat(), text: fc.string({ maxLength: 8 }) }),
      fc.record({ kind: fc.constant('json' as const), tensor: fc.nat(), field, value: odd }),
    );
    fc.assert(
      fc.property(fc.nat({ max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (which, mutations) => {
        let bytes = seeds[which].slice();
        for (const m of mutations) {
          if (m.kind === 'flip') {
            if (bytes.length > 0) bytes[m.at % bytes.length] = m.value;
          } else if (m.kind === 'truncate') bytes = bytes.slice(0, m.at % (bytes.length + 1));
          else if (m.kind === 'append') bytes = Uint8Array.from([...bytes, ...m.bytes]);
          else if (m.kind === 'length') {
            if (bytes.length >= 8) new DataView(bytes.buffer).setBigUint64(0, m.value, true);
          } else {
            // Header edits start from the seed's valid header, so they reach the deeper checks.
            const { text, data } = headerOf(seeds[which]);
            if (m.kind === 'text') {
              const at = m.at % (text.length + 1);
              bytes = withHeader(text.slice(0, at) + m.text + text.slice(at + m.text.length), data);
            } else {
              const header = JSON.parse(text) as Record<string, Record<string, unknown>>;
              const names = Object.keys(header);
              const name = names.length > 0 ? names[m.tensor % names.length] : m.field;
              if (typeof header[name] === 'object' && header[name] !== null) {
                Object.defineProperty(header[name], m.field, { value: m.value, enumerable: true });
              } else {
                Object.defineProperty(header, m.field, { value: m.value, enumerable: true });
              }
              bytes = withHeader(JSON.stringify(header), data);
            }
          }
        }
        // The header parser alone (for planning before the data) also ends in a typed error or a header.
        let header;
        try {
          header = parseSafetensorsHeader(bytes);
        } catch (error) {
          if (!(error instanceof SafetensorsError)) throw error;
        }
        let file;
        try {
          file = readSafetensors(bytes);
        } catch (error) {
          if (!(error instanceof SafetensorsError)) throw error;
          expect(error.fault.length).toBeGreaterThan(0);
          return;
        }
        // Whatever is accepted is self-consistent, and its header parses to the same tensors and size.
        for (const tensor of Object.values(file.tensors)) {
          expect(tensor.data.length).toBe(tensor.shape.reduce((a, b) => a * b, 1));
        }
        expect(header?.declaredFileBytes).toBe(bytes.length);
        expect(Object.keys(header?.tensors ?? {}).sort()).toEqual(Object.keys(file.tensors).sort());
        for (const value of Object.values(file.metadata)) expect(typeof value).toBe('string');
      }),
      { numRuns: 12_000, seed: 20261126 },
    );
  });
});

describe('loadSafetensors / saveSafetensors', () => {
  it('saves atomically and loads from a path', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'safetensors-'));
    try {
      const path = join(folder, 'w.safetensors');
      const tensors = { w: { dtype: 'F32' as const, shape: [2], data: Float32Array.from([1, 2]) } };
      await saveSafetensors(path, tensors);
      expect(Array.from((await loadSafetensors(path)).tensors.w.data as Float32Array)).toEqual([1, 2]);
      await expect(saveSafetensors(path, { w: { dtype: 'F32', shape: [3], data: Float32Array.from([1, 2]) } })).rejects.toThrow(
        SafetensorsError,
      );
      expect(Array.from((await loadSafetensors(path)).tensors.w.data as Float32Array)).toEqual([1, 2]);
      await expect(loadSafetensors(join(folder, 'missing.safetensors'))).rejects.toThrow(/not found/);
      await expect(loadSafetensors(folder)).rejects.toThrow(/found a folder/);
      expect((await loadSafetensors(pathToFileURL(path))).tensors.w.shape).toEqual([2]);
      expect((await loadSafetensors(pathToFileURL(path).href)).tensors.w.shape).toEqual([2]);
      expect(await readdir(folder)).toEqual(['w.safetensors']);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
