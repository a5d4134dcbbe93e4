import { initBackend } from '@diffusion-ts/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { countFlops, countFlopsDetailed } from './flops.js';
import { DDPM_CIFAR10_CONFIG, SMALL_UNET_2D_CONDITION } from './testing/index.js';
import { UNet2DModel } from './unet-2d.js';

describe('countFlops', () => {
  beforeAll(() => initBackend('cpu'));

  it('matches a hand count for a one-level UNet', () => {
    const config = {
      blockOutChannels: [8],
      layersPerBlock: 1,
      normNumGroups: 4,
      downBlockTypes: ['DownBlock2D' as const],
      upBlockTypes: ['UpBlock2D' as const],
      midBlockType: null,
    };
    expect(countFlops(config, 1, 4)).toBe(173_568);
    expect(countFlops(config, 3, 4)).toBe(3 * 173_568);
  });

  it('counts the DDPM CIFAR-10 layout, whose model has 35.7M parameters', () => {
    const model = UNet2DModel.fromConfig(DDPM_CIFAR10_CONFIG);
    expect(model.parameterCount).toBe(35_746_307);
    model.dispose();
    const flops = countFlopsDetailed(DDPM_CIFAR10_CONFIG, 1, 32);
    // About 6.1 G multiply-adds per image, as usually quoted for this model.
    expect(flops.total / 2 / 1e9).toBeGreaterThan(5.5);
    expect(flops.total / 2 / 1e9).toBeLessThan(6.5);
    expect(flops.convolution).toBeGreaterThan(flops.matmul);
  });

  it('counts cross-attention for UNet2DConditionModel configs', () => {
    const config = { _class_name: 'UNet2DConditionModel', ...SMALL_UNET_2D_CONDITION };
    expect(countFlops(config, 1, 8, { sequenceLength: 10 })).toBeGreaterThan(countFlops(config, 1, 8, { sequenceLength: 1 }));
  });
});
