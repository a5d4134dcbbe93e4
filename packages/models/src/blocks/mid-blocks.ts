import * as tf from '@tensorflow/tfjs-core';
import type { ParameterScope } from '../parameters/parameter-store.js';
import type { MidBlock, MidBlockSpec, SpatialMixer } from './block-types.js';
import type { ForwardContext } from './forward-context.js';
import { spatialSelfAttention, spatialTransformer } from './mixers.js';
import { ResnetBlock2D } from './resnet-block-2d.js';
import { resnetOptions } from './resnet-options.js';

/** A resnet, then `numLayers` x (mixer, resnet), all at `inChannels` width. */
class ResnetMidBlock implements MidBlock {
  readonly resnets: ResnetBlock2D[] = [];
  readonly mixers: SpatialMixer[] = [];

  constructor(
    scope: ParameterScope,
    spec: MidBlockSpec,
    mixer: ((scope: ParameterScope, layer: number) => SpatialMixer) | null,
    readonly hasCrossAttention: boolean,
  ) {
    const options = resnetOptions(spec, spec.inChannels, spec.inChannels, spec.outputScaleFactor);
    this.resnets.push(new ResnetBlock2D(scope.child('resnets').child(0), options));
    for (let i = 0; i < spec.numLayers; i += 1) {
      if (mixer) this.mixers.push(mixer(scope.child('attentions').child(i), i));
      this.resnets.push(new ResnetBlock2D(scope.child('resnets').child(i + 1), options));
    }
  }

  apply(x: tf.Tensor4D, context: ForwardContext): tf.Tensor4D {
    return tf.tidy(() => {
      let hidden = this.resnets[0].apply(x, context);
      for (let i = 1; i < this.resnets.length; i += 1) {
        if (this.mixers[i - 1]) hidden = this.mixers[i - 1].apply(hidden, context);
        hidden = this.resnets[i].apply(hidden, context);
      }
      return hidden;
    });
  }
}

/**
 * Diffusers' `UNetMidBlock2D`: resnet, (self-attention, resnet) x numLayers; attention is skipped
 * with `addAttention` false; its group norm uses `attnGroups` (none when `null`).
 */
export function createUNetMidBlock2D(scope: ParameterScope, spec: MidBlockSpec): MidBlock {
  const mixer = spec.addAttention
    ? (child: ParameterScope) => spatialSelfAttention(child, spec.inChannels, spec, spec.attnGroups, spec.outputScaleFactor)
    : null;
  return new ResnetMidBlock(scope, spec, mixer, false);
}

/** Diffusers' `UNetMidBlock2DCrossAttn`: resnet, (transformer with cross-attention, resnet) x numLayers. */
export function createUNetMidBlock2DCrossAttn(scope: ParameterScope, spec: MidBlockSpec): MidBlock {
  const mixer = (child: ParameterScope, layer: number) => spatialTransformer(child, spec.inChannels, spec, layer, spec.resnetGroups);
  return new ResnetMidBlock(scope, spec, mixer, true);
}
