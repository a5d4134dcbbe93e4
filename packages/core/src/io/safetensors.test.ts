import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readSafetensors, SafetensorsError, writeSafetensors, type SafetensorsTensor } from './safetensors.js';
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

  it('survives 10,000 mutated files with only typed errors (fuzz)', () => {
    const seedFile = writeSafetensors(
      {
        weight: { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
        bias: { dtype: 'F16', shape: [3], data: Float32Array.from([0.5, 1, 2]) },
        steps: { dtype: 'I64', shape: [1], data: BigInt64Array.from([3n]) },
      },
      { format: 'pt' },
    );
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ maxLength: 16 }) }),
      fc.record({ kind: fc.constant('header' as const), at: fc.nat(), text: fc.string({ maxLength: 8 }) }),
    );
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        let bytes = seedFile.slice();
        for (const m of mutations) {
          if (m.kind === 'flip') bytes[m.at % bytes.length] = m.value;
          else if (m.kind === 'truncate') bytes = bytes.slice(0, m.at % (bytes.length + 1));
          else if (m.kind === 'append') bytes = Uint8Array.from([...bytes, ...m.bytes]);
          else {
            const headerLength = Number(new DataView(seedFile.buffer).getBigUint64(0, true));
            const text = new TextDecoder().decode(seedFile.subarray(8, 8 + headerLength));
            const at = m.at % (text.length + 1);
            const edited = new TextEncoder().encode(text.slice(0, at) + m.text + text.slice(at + m.text.length));
            const data = seedFile.subarray(8 + headerLength);
            bytes = new Uint8Array(8 + edited.length + data.length);
            new DataView(bytes.buffer).setBigUint64(0, BigInt(edited.length), true);
            bytes.set(edited, 8);
            bytes.set(data, 8 + edited.length);
          }
        }
        try {
          readSafetensors(bytes);
        } catch (error) {
          if (!(error instanceof SafetensorsError)) throw error;
        }
      }),
      { numRuns: 10_000, seed: 20261126 },
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
      await expect(
        saveSafetensors(path, { w: { dtype: 'F32', shape: [3], data: Float32Array.from([1, 2]) } }),
      ).rejects.toThrow(SafetensorsError);
      expect(Array.from((await loadSafetensors(path)).tensors.w.data as Float32Array)).toEqual([1, 2]);
      await expect(loadSafetensors(join(folder, 'missing.safetensors'))).rejects.toThrow(/not found/);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
