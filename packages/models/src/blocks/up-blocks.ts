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
 * latest unused skip activation (UNets) or the running activation alone (the VAE's decoder
 * blocks, `withSkips` false) and optionally followed by an attention, then an optional nearest x2
 * upsample and conv.
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
    private readonly withSkips = true,
  ) {
    for (let i = 0; i < spec.numLayers; i += 1) {
      const previous = i > 0 ? spec.outChannels : withSkips ? spec.prevOutputChannel : spec.inChannels;
      const skip = !withSkips ? 0 : i === spec.numLayers - 1 ? spec.inChannels : spec.outChannels;
      const inChannels = previous + skip;
      this.resnets.push(new ResnetBlock2D(scope.child('resnets').child(i), resnetOptions(spec, inChannels, spec.outChannels)));
      if (mixer) this.mixers.push(mixer(scope.child('attentions').child(i), spec.outChannels, spec, i));
    }
    if (spec.addUpsample) {
      this.upsampler = new Upsample2D(scope.child('upsamplers').child(0), spec.outChannels, spec.outChannels);
    }
  }

  get skipCount(): number {
    return this.withSkips ? this.resnets.length : 0;
  }

  apply(x: tf.Tensor4D, residuals: tf.Tensor4D[], context: ForwardContext): tf.Tensor4D {
    return tf.tidy(() => {
      let hidden = x;
      this.resnets.forEach((resnet, i) => {
        hidden = resnet.apply(this.withSkips ? tf.concat([hidden, residuals[residuals.length - 1 - i]], 3) : hidden, context);
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

/** Diffusers' `UpDecoderBlock2D` (the VAE decoder's): resnets without skip inputs, then an upsample. */
export function createUpDecoderBlock2D(scope: ParameterScope, spec: UpBlockSpec): UpBlock {
  return new ResnetUpBlock(scope, spec, null, false, false);
}

/** Diffusers' `AttnUpDecoderBlock2D`: `UpDecoderBlock2D` with self-attention after each resnet. */
export function createAttnUpDecoderBlock2D(scope: ParameterScope, spec: UpBlockSpec): UpBlock {
  const mixer: MixerFactory = (child, channels, settings) =>
    spatialSelfAttention(child, channels, settings, settings.resnetGroups, settings.resnetOutScaleFactor);
  return new ResnetUpBlock(scope, spec, mixer, false, false);
}
