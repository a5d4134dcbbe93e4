import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPretrained } from './pretrained.js';
import { loadSafetensors } from './safetensors-file.js';
import { readSafetensorsHeader } from './safetensors-header.js';
import { parseSafetensorsHeader, readSafetensors, SafetensorsError, writeSafetensors, type SafetensorsTensor } from './safetensors.js';
import { findWeightFiles, loadWeightFiles, weightFootprint, withVariant } from './weight-files.js';
import { WeightsError } from './weights-error.js';

const tensor = (dtype: SafetensorsTensor['dtype'], shape: number[], start = 0): SafetensorsTensor => {
  const count = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: count }, (_, i) => (start + i) / 8);
  return { dtype, shape, data: dtype === 'I32' ? Int32Array.from(values, Math.round) : Float32Array.from(values) };
};

let folder: string;
let server: Server;
let baseUrl: string;
const rangeHeaders: (string | undefined)[] = [];

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'weight-files-'));
  const a = { 'a.weight': tensor('F32', [3, 4]), 'a.bias': tensor('F32', [3], 1) };
  const b = { 'b.weight': tensor('F16', [2, 5]), 'b.count': tensor('I32', [2], 2) };
  // Plain single file, an fp16 variant, and an fp16 sharded variant of a second model.
  await writeFile(join(folder, 'diffusion_pytorch_model.safetensors'), writeSafetensors({ ...a, ...b }));
  await writeFile(join(folder, 'model.fp16.safetensors'), writeSafetensors({ 'x.weight': tensor('F16', [4, 4]) }));
  await writeFile(join(folder, 'shard-1.safetensors'), writeSafetensors(a));
  await writeFile(join(folder, 'shard-2.safetensors'), writeSafetensors(b));
  const weightMap = {
    'a.weight': 'shard-1.safetensors',
    'a.bias': 'shard-1.safetensors',
    'b.weight': 'shard-2.safetensors',
    'b.count': 'shard-2.safetensors',
  };
  await writeFile(join(folder, 'unet.safetensors.index.fp16.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
  await writeFile(join(folder, 'bad.safetensors.index.json'), JSON.stringify({ weight_map: { 'a.weight': '../escape.safetensors' } }));
  await writeFile(
    join(folder, 'wrong.safetensors.index.json'),
    JSON.stringify({ weight_map: { ...weightMap, 'a.bias': 'shard-2.safetensors' } }),
  );
  server = createServer((request, response) => {
    rangeHeaders.push(request.headers.range);
    const name = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname).replace(/^\/(no-range\/)?/, '');
    readFile(join(folder, name)).then(
      (body) => {
        const range = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '');
        if (range && !request.url?.startsWith('/no-range')) {
          const [start, end] = [Number(range[1]), Math.min(Number(range[2]), body.length - 1)];
          response.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${body.length}` });
          response.end(request.method === 'HEAD' ? undefined : body.subarray(start, end + 1));
        } else {
          response.writeHead(200);
          response.end(request.method === 'HEAD' ? undefined : body);
        }
      },
      () => {
        response.writeHead(404);
        response.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(folder, { recursive: true, force: true });
});

describe('withVariant', () => {
  it("inserts the variant before the last part, as Diffusers' _add_variant", () => {
    expect(withVariant('diffusion_pytorch_model.safetensors', 'fp16')).toBe('diffusion_pytorch_model.fp16.safetensors');
    expect(withVariant('model.safetensors', 'fp16')).toBe('model.fp16.safetensors');
    expect(withVariant('diffusion_pytorch_model.safetensors.index.json', 'fp16')).toBe(
      'diffusion_pytorch_model.safetensors.index.fp16.json',
    );
    expect(withVariant('model.safetensors')).toBe('model.safetensors');
    expect(() => withVariant('model.safetensors', '../x')).toThrow(/plain name/);
  });
});

describe('safetensors headers', () => {
  it('parses the header alone and reads only it, locally and over HTTP (with and without Range support)', async () => {
    const bytes = await readFile(join(folder, 'diffusion_pytorch_model.safetensors'));
    const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
    const header = parseSafetensorsHeader(new Uint8Array(bytes.subarray(0, 8 + headerLength)));
    expect(header.declaredFileBytes).toBe(bytes.length);
    expect(header.tensors['b.weight']).toMatchObject({ dtype: 'F16', shape: [2, 5], byteLength: 20 });
    const full = readSafetensors(new Uint8Array(bytes));
    const entry = header.tensors['a.bias'];
    expect(
      new Float32Array(bytes.buffer.slice(bytes.byteOffset + entry.fileOffset, bytes.byteOffset + entry.fileOffset + entry.byteLength)),
    ).toEqual(full.tensors['a.bias'].data);
    for (const location of [
      join(folder, 'diffusion_pytorch_model.safetensors'),
      `${baseUrl}/diffusion_pytorch_model.safetensors`,
      `${baseUrl}/no-range/diffusion_pytorch_model.safetensors`,
    ]) {
      expect((await readSafetensorsHeader(location)).tensors).toEqual(header.tensors);
    }
    expect(rangeHeaders).toContain(`bytes=0-7`);
  });

  it('names the file of a malformed header and refuses a truncated one', async () => {
    await writeFile(join(folder, 'broken.safetensors'), new Uint8Array([255, 255, 255, 255, 0, 0, 0, 0]));
    await expect(readSafetensorsHeader(join(folder, 'broken.safetensors'))).rejects.toThrow(
      /broken\.safetensors: header length .* exceeds/,
    );
    const bytes = await readFile(join(folder, 'shard-1.safetensors'));
    await writeFile(join(folder, 'short.safetensors'), bytes.subarray(0, bytes.length - 4));
    await expect(loadSafetensors(join(folder, 'short.safetensors'))).rejects.toThrow(SafetensorsError);
    await expect(loadSafetensors(join(folder, 'short.safetensors'))).rejects.toThrow(/declares \d+ bytes but the file has/);
    await expect(loadSafetensors(join(folder, 'absent.safetensors'))).rejects.toThrow(/file not found/);
  });

  it('holds local tensor-by-tensor loading to maxWeightsBytes and the signal', async () => {
    const path = join(folder, 'diffusion_pytorch_model.safetensors');
    await expect(loadSafetensors(path, { maxWeightsBytes: 64 })).rejects.toMatchObject({ name: 'LoadError', fault: 'too-large' });
    const reason = new Error('stop');
    await expect(loadSafetensors(path, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await expect(openPretrained(folder, { maxWeightsBytes: 64 }).loadSafetensors('diffusion_pytorch_model.safetensors')).rejects.toThrow(
      /more than the 64-byte limit \(maxWeightsBytes\)/,
    );
  });

  it('loads a file tensor by tensor exactly as readSafetensors does (F16 widened)', async () => {
    const path = join(folder, 'diffusion_pytorch_model.safetensors');
    const streamed = await loadSafetensors(path);
    expect(streamed).toEqual(readSafetensors(new Uint8Array(await readFile(path))));
  });
});

describe('findWeightFiles / weightFootprint / loadWeightFiles', () => {
  it('finds a single file, a variant and variant shards; counts bytes from headers; merges shards', async () => {
    for (const root of [folder, baseUrl]) {
      const source = openPretrained(root);
      const plain = await findWeightFiles(source, 'diffusion_pytorch_model.safetensors');
      expect(plain.files).toEqual(['diffusion_pytorch_model.safetensors']);
      const footprint = await weightFootprint(source, plain);
      expect(footprint).toEqual({
        tensors: 4,
        elements: 27,
        storedBytes: 12 * 4 + 3 * 4 + 10 * 2 + 2 * 4,
        loadedBytes: 27 * 4,
        largestTensorBytes: 48,
        dtypes: { F32: 15, F16: 10, I32: 2 },
      });

      const fp16 = await findWeightFiles(source, 'model.safetensors', { variant: 'fp16' });
      expect(fp16).toMatchObject({ files: ['model.fp16.safetensors'], variant: 'fp16' });

      const sharded = await findWeightFiles(source, 'unet.safetensors', { variant: 'fp16' });
      expect(sharded).toMatchObject({
        files: ['shard-1.safetensors', 'shard-2.safetensors'],
        index: 'unet.safetensors.index.fp16.json',
        variant: 'fp16',
      });
      expect((await weightFootprint(source, sharded)).loadedBytes).toBe(footprint.loadedBytes);
      const merged = await loadWeightFiles(source, sharded);
      expect(Object.keys(merged).sort()).toEqual(['a.bias', 'a.weight', 'b.count', 'b.weight']);
      expect(merged).toEqual(await loadWeightFiles(source, plain));
    }
  });

  it('falls back to the plain files with a warning when the variant is absent, and names every file tried', async () => {
    const source = openPretrained(folder);
    const warnings: string[] = [];
    const found = await findWeightFiles(source, 'diffusion_pytorch_model.safetensors', {
      variant: 'fp16',
      onWarning: (m) => warnings.push(m),
    });
    expect(found).toMatchObject({ files: ['diffusion_pytorch_model.safetensors'], variant: undefined });
    expect(warnings[0]).toMatch(/no 'fp16' variant of the weights; using diffusion_pytorch_model\.safetensors/);
    await expect(findWeightFiles(source, 'absent.safetensors')).rejects.toMatchObject({ name: 'LoadError', fault: 'not-found' });
    await expect(findWeightFiles(source, 'absent.safetensors', { variant: 'fp16' })).rejects.toThrow(
      /no weights found \(looked for absent\.fp16\.safetensors, absent\.safetensors\.index\.fp16\.json, absent\.safetensors, absent\.safetensors\.index\.json\)/,
    );
  });

  it('refuses shard names outside the folder and tensors in the wrong shard', async () => {
    const source = openPretrained(folder);
    await expect(findWeightFiles(source, 'bad.safetensors')).rejects.toThrow(/not a file name in the folder/);
    const wrong = await findWeightFiles(source, 'wrong.safetensors');
    await expect(loadWeightFiles(source, wrong)).rejects.toThrow(
      /'a\.bias' is in shard-1\.safetensors but the index names shard-2\.safetensors/,
    );
    await expect(loadWeightFiles(source, wrong)).rejects.toBeInstanceOf(WeightsError);
  });
});
