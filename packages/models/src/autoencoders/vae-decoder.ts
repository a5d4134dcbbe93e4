import * as tf from '@tensorflow/tfjs-core';
import { silu } from '@diffusion-ts/core';
import { DECODER_BLOCKS } from '../block-registry.js';
import type { MidBlock, UpBlock } from '../blocks/block-types.js';
import { GroupNorm } from '../blocks/group-norm.js';
import { Conv2d } from '../layers/conv-2d.js';
import type { ParameterScope } from '../parameters/parameter-store.js';
import type { AutoencoderKLOptions } from './autoencoder-kl-config.js';
import { VAE_NORM_EPS, createVaeMidBlock, vaeBlockSettings } from './vae-blocks.js';

/**
 * Diffusers' VAE `Decoder` (NHWC, group norm): `conv_in` from the latents to the last block's
 * width, the mid block, the up blocks (widths reversed, `layersPerBlock + 1` resnets each, all but
 * the last doubling H and W), GroupNorm, SiLU and `conv_out`.
 */
export class VaeDecoder {
  readonly convIn: Conv2d;
  readonly midBlock: MidBlock;
  readonly upBlocks: UpBlock[];
  readonly convNormOut: GroupNorm;
  readonly convOut: Conv2d;

  constructor(scope: ParameterScope, options: AutoencoderKLOptions) {
    const reversed = [...options.blockOutChannels].reverse();
    const first = options.blockOutChannels[0];
    this.convIn = new Conv2d(scope.child('conv_in'), {
      inChannels: options.latentChannels,
      outChannels: reversed[0],
      kernelSize: 3,
      padding: 1,
    });
    // Diffusers registers `up_blocks` (then empty) before `mid_block`: that is the parameter order.
    this.upBlocks = options.upBlockTypes.map((type, i) => {
      const inChannels = reversed[Math.max(i - 1, 0)];
      return DECODER_BLOCKS[type](scope.child('up_blocks').child(i), {
        ...vaeBlockSettings(options, reversed[i]),
        numLayers: options.layersPerBlock + 1,
        inChannels,
        prevOutputChannel: inChannels,
        outChannels: reversed[i],
        addUpsample: i !== reversed.length - 1,
      });
    });
    this.midBlock = createVaeMidBlock(scope.child('mid_block'), options);
    this.convNormOut = new GroupNorm(scope.child('conv_norm_out'), options.normNumGroups, first, VAE_NORM_EPS);
    this.convOut = new Conv2d(scope.child('conv_out'), { inChannels: first, outChannels: options.outChannels, kernelSize: 3, padding: 1 });
  }

  /** Latents [B, h, w, latentChannels] -> images [B, h * f, w * f, outChannels]. */
  apply(latents: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return tf.tidy(() => {
      const context = { training };
      let hidden = this.midBlock.apply(this.convIn.apply(latents), context);
      for (const block of this.upBlocks) hidden = block.apply(hidden, [], context);
      // Diffusers' `conv_act` is SiLU whatever `act_fn` says.
      return this.convOut.apply(silu(this.convNormOut.apply(hidden)));
    });
  }
}
