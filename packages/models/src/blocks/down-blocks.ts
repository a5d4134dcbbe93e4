import * as tf from '@tensorflow/tfjs-core';
import type { ParameterScope } from '../parameters/parameter-store.js';
import type { DownBlock, DownBlockSpec, SpatialMixer } from './block-types.js';
import { Downsample2D } from './downsample-2d.js';
import type { ForwardContext } from './forward-context.js';
import { spatialSelfAttention, spatialTransformer } from './mixers.js';
import { ResnetBlock2D } from './resnet-block-2d.js';
import { resnetOptions } from './resnet-options.js';

type MixerFactory = (scope: ParameterScope, channels: number, spec: DownBlockSpec, layer: number) => SpatialMixer;

/**
 * `numLayers` resnets (each optionally followed by an attention), then an optional stride-2
 * downsample. Every layer's output and the downsampled output are kept as skip activations.
 */
class ResnetDownBlock implements DownBlock {
  readonly resnets: ResnetBlock2D[] = [];
  readonly mixers: SpatialMixer[] = [];
  readonly downsampler?: Downsample2D;

  constructor(
    scope: ParameterScope,
    spec: DownBlockSpec,
    mixer: MixerFactory | null,
    mixerName: string,
    readonly hasCrossAttention: boolean,
  ) {
    for (let i = 0; i < spec.numLayers; i += 1) {
      const inChannels = i === 0 ? spec.inChannels : spec.outChannels;
      this.resnets.push(new ResnetBlock2D(scope.child('resnets').child(i), resnetOptions(spec, inChannels, spec.outChannels)));
      if (mixer) this.mixers.push(mixer(scope.child(mixerName).child(i), spec.outChannels, spec, i));
    }
    if (spec.addDownsample) {
      this.downsampler = new Downsample2D(scope.child('downsamplers').child(0), spec.outChannels, spec.outChannels, spec.downsamplePadding);
    }
  }

  apply(x: tf.Tensor4D, context: ForwardContext): { hidden: tf.Tensor4D; residuals: tf.Tensor4D[] } {
    return tf.tidy(() => {
      const residuals: tf.Tensor4D[] = [];
      let hidden = x;
      this.resnets.forEach((resnet, i) => {
        hidden = resnet.apply(hidden, context);
        if (this.mixers[i]) hidden = this.mixers[i].apply(hidden, context);
        residuals.push(hidden);
      });
      if (this.downsampler) {
        hidden = this.downsampler.apply(hidden);
        residuals.push(hidden);
      }
      return { hidden, residuals };
    });
  }
}

/** Diffusers' `DownBlock2D`: resnets and a downsample. */
export function createDownBlock2D(scope: ParameterScope, spec: DownBlockSpec): DownBlock {
  return new ResnetDownBlock(scope, spec, null, '', false);
}

/** Diffusers' `AttnDownBlock2D`: resnets each followed by self-attention (per-head size `attentionHeadDim`). */
export function createAttnDownBlock2D(scope: ParameterScope, spec: DownBlockSpec): DownBlock {
  const mixer: MixerFactory = (child, channels, settings) =>
    spatialSelfAttention(child, channels, settings, settings.resnetGroups, settings.resnetOutScaleFactor);
  return new ResnetDownBlock(scope, spec, mixer, 'attentions', false);
}

/** Diffusers' `CrossAttnDownBlock2D`: resnets each followed by a `Transformer2DModel` with cross-attention. */
export function createCrossAttnDownBlock2D(scope: ParameterScope, spec: DownBlockSpec): DownBlock {
  const mixer: MixerFactory = (child, channels, settings, layer) =>
    spatialTransformer(child, channels, settings, layer, settings.resnetGroups);
  return new ResnetDownBlock(scope, spec, mixer, 'attentions', true);
}

/**
 * Diffusers' `DownEncoderBlock2D` (the VAE encoder's): the layout of `DownBlock2D`; the encoder
 * gives it no time embedding, eps 1e-6 and downsample padding 0, and ignores the skip activations.
 */
export function createDownEncoderBlock2D(scope: ParameterScope, spec: DownBlockSpec): DownBlock {
  return createDownBlock2D(scope, spec);
}

/** Diffusers' `AttnDownEncoderBlock2D`: the layout of `AttnDownBlock2D`, used as `DownEncoderBlock2D` is. */
export function createAttnDownEncoderBlock2D(scope: ParameterScope, spec: DownBlockSpec): DownBlock {
  return createAttnDownBlock2D(scope, spec);
}
