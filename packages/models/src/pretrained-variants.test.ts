import { initBackend, loadSafetensors, writeSafetensors, type SafetensorsTensor } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNET2D_TINY_FOLDER } from './testing/fixtures.js';
import { UNet2DModel } from './unet-2d.js';

/** The tiny UNet's weights as fp16 shards (Diffusers' variant naming) next to its config. */
async function shardedFp16Folder(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'models-sharded-'));
  await copyFile(join(UNET2D_TINY_FOLDER, 'config.json'), join(folder, 'config.json'));
  const { tensors } = await loadSafetensors(
    new Uint8Array(await readFile(join(UNET2D_TINY_FOLDER, 'diffusion_pytorch_model.safetensors'))),
  );
  const names = Object.keys(tensors).sort();
  const shards: Record<string, SafetensorsTensor>[] = [{}, {}, {}];
  const weightMap: Record<string, string> = {};
  names.forEach((name, i) => {
    const shard = i % 3;
    shards[shard][name] = { ...tensors[name], dtype: 'F16' };
    weightMap[name] = `diffusion_pytorch_model.fp16-0000${shard + 1}-of-00003.safetensors`;
  });
  for (const [i, shard] of shards.entries()) {
    await writeFile(
      join(folder, `diffusion_pytorch_model.fp16-0000${i + 1}-of-00003.safetensors`),
      writeSafetensors(shard, { format: 'pt' }),
    );
  }
  await writeFile(
    join(folder, 'diffusion_pytorch_model.safetensors.index.fp16.json'),
    JSON.stringify({ metadata: {}, weight_map: weightMap }),
  );
  return folder;
}

describe.each(testBackendNames())('weights variants and shards on %s', (backend) => {
  let folder: string;

  beforeAll(async () => {
    await initBackend(backend);
    folder = await shardedFp16Folder();
  });

  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it("loads variant: 'fp16' from a sharded index as the single F32 file rounded to fp16", async () => {
    const plain = await UNet2DModel.fromPretrained(UNET2D_TINY_FOLDER);
    const sharded = await UNet2DModel.fromPretrained(folder, { variant: 'fp16' });
    const [a, b] = [await plain.exportWeights(), await sharded.exportWeights()];
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    // fp16 keeps 11 significant bits: the loaded values are within 2^-11 relative of the originals.
    let outside = 0;
    for (const name of Object.keys(a)) {
      const [want, got] = [a[name].data, b[name].data];
      for (let i = 0; i < want.length; i += 1) if (Math.abs(got[i] - want[i]) > Math.abs(want[i]) * 2 ** -11 + 6e-8) outside += 1;
    }
    expect(outside).toBe(0);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const sample = tf.randomNormal([1, 16, 16, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
      expect(sharded.predict(sample, 10).shape).toEqual([1, 16, 16, 3]);
    });
    expect(tf.memory().numTensors).toBe(before);
    plain.dispose();
    sharded.dispose();
  });

  it('falls back to the plain weights with a warning when the variant is absent', async () => {
    const warnings: string[] = [];
    const model = await UNet2DModel.fromPretrained(UNET2D_TINY_FOLDER, { variant: 'fp16', onWarning: (m) => warnings.push(m) });
    expect(warnings.join('\n')).toMatch(/no 'fp16' variant of the weights; using diffusion_pytorch_model\.safetensors/);
    model.dispose();
    await expect(UNet2DModel.fromPretrained(folder)).rejects.toThrow(/no weights found/);
  });
});
