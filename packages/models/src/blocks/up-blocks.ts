import * as tf from '@tensorflow/tfjs-core';
import type { ParameterScope } from '../parameters/parameter-store.js';
import type { SpatialMixer, UpBlock, UpBlockSpec } from './block-types.js';
import type { ForwardContext } from './forward-context.js';
import { spatialSelfAttention, spatialTransformer } from './mixers.js';
import { ResnetBlock2D } from './resnet-block-2d.js';
import { resnetOptions } from './resnet-options.js';
import { Upsample2D } from './upsample-2d.js';

type MixerFactory = (scope: ParameterScope, channels: number, spec: UpBlockSpec, layer: number) => SpatialMixer;

/**
 * `numLayers` resnets, each fed the running activation concatenated (on channels) with the
 * latest unused skip activation and optionally followed by an attention, then an optional
 * nearest x2 upsample and conv.
 */
class ResnetUpBlock implements UpBlock {
  readonly resnets: ResnetBlock2D[] = [];
  readonly mixers: SpatialMixer[] = [];
  readonly upsampler?: Upsample2D;

  constructor(
    scope: ParameterScope,
    spec: UpBlockSpec,
    mixer: MixerFactory | null,
    readonly hasCrossAttention: boolean,
  ) {
    for (let i = 0; i < spec.numLayers; i += 1) {
      const skipChannels = i === spec.numLayers - 1 ? spec.inChannels : spec.outChannels;
      const inChannels = (i === 0 ? spec.prevOutputChannel : spec.outChannels) + skipChannels;
      this.resnets.push(new ResnetBlock2D(scope.child('resnets').child(i), resnetOptions(spec, inChannels, spec.outChannels)));
      if (mixer) this.mixers.push(mixer(scope.child('attentions').child(i), spec.outChannels, spec, i));
    }
    if (spec.addUpsample) {
      this.upsampler = new Upsample2D(scope.child('upsamplers').child(0), spec.outChannels, spec.outChannels);
    }
  }

  get resnetCount(): number {
    return this.resnets.length;
  }

  apply(x: tf.Tensor4D, residuals: tf.Tensor4D[], context: ForwardContext): tf.Tensor4D {
    return tf.tidy(() => {
      let hidden = x;
      this.resnets.forEach((resnet, i) => {
        const skip = residuals[residuals.length - 1 - i];
        hidden = resnet.apply(tf.concat([hidden, skip], 3), context);
        if (this.mixers[i]) hidden = this.mixers[i].apply(hidden, context);
      });
      return this.upsampler ? this.upsampler.apply(hidden) : hidden;
    });
  }
}

/** Diffusers' `UpBlock2D`. */
export function createUpBlock2D(scope: ParameterScope, spec: UpBlockSpec): UpBlock {
  return new ResnetUpBlock(scope, spec, null, false);
}

/** Diffusers' `AttnUpBlock2D`: resnets each followed by self-attention (per-head size `attentionHeadDim`). */
export function createAttnUpBlock2D(scope: ParameterScope, spec: UpBlockSpec): UpBlock {
  const mixer: MixerFactory = (child, channels, settings) =>
    spatialSelfAttention(child, channels, settings, settings.resnetGroups, settings.resnetOutScaleFactor);
  return new ResnetUpBlock(scope, spec, mixer, false);
}

/** Diffusers' `CrossAttnUpBlock2D`: resnets each followed by a `Transformer2DModel` with cross-attention. */
export function createCrossAttnUpBlock2D(scope: ParameterScope, spec: UpBlockSpec): UpBlock {
  const mixer: MixerFactory = (child, channels, settings, layer) =>
    spatialTransformer(child, channels, settings, layer, settings.resnetGroups);
  return new ResnetUpBlock(scope, spec, mixer, true);
}
