import * as tf from '@tensorflow/tfjs-core';
import { silu } from '@diffusion-ts/core';
import { ENCODER_BLOCKS } from '../block-registry.js';
import type { DownBlock, MidBlock } from '../blocks/block-types.js';
import { GroupNorm } from '../blocks/group-norm.js';
import { Conv2d } from '../layers/conv-2d.js';
import type { ParameterScope } from '../parameters/parameter-store.js';
import type { AutoencoderKLOptions } from './autoencoder-kl-config.js';
import { VAE_NORM_EPS, createVaeMidBlock, vaeBlockSettings } from './vae-blocks.js';

/**
 * Diffusers' VAE `Encoder` (NHWC): `conv_in`, the down blocks (all but the last halve H and W),
 * the mid block, GroupNorm, SiLU and `conv_out` to `2 * latentChannels` moments (mean and
 * log-variance).
 */
export class VaeEncoder {
  readonly convIn: Conv2d;
  readonly downBlocks: DownBlock[];
  readonly midBlock: MidBlock;
  readonly convNormOut: GroupNorm;
  readonly convOut: Conv2d;

  constructor(scope: ParameterScope, options: AutoencoderKLOptions) {
    const channels = options.blockOutChannels;
    const last = channels[channels.length - 1];
    this.convIn = new Conv2d(scope.child('conv_in'), {
      inChannels: options.inChannels,
      outChannels: channels[0],
      kernelSize: 3,
      padding: 1,
    });
    this.downBlocks = options.downBlockTypes.map((type, i) =>
      ENCODER_BLOCKS[type](scope.child('down_blocks').child(i), {
        ...vaeBlockSettings(options, channels[i]),
        numLayers: options.layersPerBlock,
        inChannels: channels[Math.max(i - 1, 0)],
        outChannels: channels[i],
        addDownsample: i !== channels.length - 1,
        downsamplePadding: 0,
      }),
    );
    this.midBlock = createVaeMidBlock(scope.child('mid_block'), options);
    this.convNormOut = new GroupNorm(scope.child('conv_norm_out'), options.normNumGroups, last, VAE_NORM_EPS);
    this.convOut = new Conv2d(scope.child('conv_out'), {
      inChannels: last,
      outChannels: 2 * options.latentChannels,
      kernelSize: 3,
      padding: 1,
    });
  }

  /** Images [B, H, W, inChannels] -> moments [B, H / f, W / f, 2 * latentChannels]. */
  apply(images: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return tf.tidy(() => {
      const context = { training };
      let hidden = this.convIn.apply(images);
      for (const block of this.downBlocks) hidden = block.apply(hidden, context).hidden;
      hidden = this.midBlock.apply(hidden, context);
      // Diffusers' `conv_act` is SiLU whatever `act_fn` says.
      return this.convOut.apply(silu(this.convNormOut.apply(hidden)));
    });
  }
}
