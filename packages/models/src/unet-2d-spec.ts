import { ConfigError } from '@diffusion-ts/core';
import type { BlockSettings } from './blocks/block-types.js';
import type { UNet2DOptions } from './unet-2d-config.js';
import type { UNetBodySpec } from './unet-body.js';

/** Resolves `UNet2DModel` options into the block layout Diffusers' constructor builds. */
export function resolveUNet2DSpec(options: UNet2DOptions): UNetBodySpec {
  const channels = options.blockOutChannels;
  const levels = channels.length;
  const timeEmbedDim = options.timeEmbeddingDim ?? channels[0] * 4;
  const groups = options.normNumGroups;
  if (groups === null) {
    throw new ConfigError("UNet2DModel: config key 'norm_num_groups' must be set (the down and up blocks need a group count)", 'norm_num_groups');
  }
  const base: Omit<BlockSettings, 'attentionHeadDim'> = {
    tembChannels: timeEmbedDim,
    dropout: options.dropout,
    resnetEps: options.normEps,
    resnetActFn: options.actFn,
    resnetGroups: groups,
    resnetTimeScaleShift: options.resnetTimeScaleShift,
    resnetSkipTimeAct: false,
    resnetOutScaleFactor: 1,
    numAttentionHeads: 1,
    crossAttentionDim: null,
    transformerLayersPerBlock: [1],
    useLinearProjection: false,
    onlyCrossAttention: false,
  };
  const headDim = (width: number): number => options.attentionHeadDim ?? width;

  let output = channels[0];
  const down = options.downBlockTypes.map((type, i) => {
    const input = output;
    output = channels[i];
    return {
      type,
      spec: {
        ...base,
        attentionHeadDim: headDim(output),
        numLayers: options.layersPerBlock,
        inChannels: input,
        outChannels: output,
        addDownsample: i !== levels - 1,
        downsamplePadding: options.downsamplePadding,
      },
    };
  });

  const last = channels[levels - 1];
  const mid =
    options.midBlockType === null
      ? null
      : {
          type: options.midBlockType,
          spec: {
            ...base,
            attentionHeadDim: headDim(last),
            inChannels: last,
            numLayers: 1,
            outputScaleFactor: options.midBlockScaleFactor,
            attnGroups: options.attnNormNumGroups ?? (options.resnetTimeScaleShift === 'default' ? groups : null),
            addAttention: options.addAttention,
          },
        };

  const reversed = [...channels].reverse();
  output = reversed[0];
  const up = options.upBlockTypes.map((type, i) => {
    const previous = output;
    output = reversed[i];
    return {
      type,
      spec: {
        ...base,
        attentionHeadDim: headDim(output),
        numLayers: options.layersPerBlock + 1,
        inChannels: reversed[Math.min(i + 1, levels - 1)],
        prevOutputChannel: previous,
        outChannels: output,
        addUpsample: i !== levels - 1,
      },
    };
  });

  return {
    inChannels: options.inChannels,
    outChannels: options.outChannels,
    blockOutChannels: channels,
    centerInputSample: options.centerInputSample,
    timeProjection:
      options.timeEmbeddingType === 'learned'
        ? { kind: 'learned', numTrainTimesteps: options.numTrainTimesteps ?? 0 }
        : { kind: 'positional', options: { numChannels: channels[0], flipSinToCos: options.flipSinToCos, downscaleFreqShift: options.freqShift } },
    timeEmbedDim,
    actFn: 'silu',
    timestepPostAct: null,
    timeEmbeddingActFn: null,
    classEmbedding:
      options.classEmbedType === 'timestep'
        ? { kind: 'timestep' }
        : options.numClassEmbeds !== null
          ? { kind: 'table', count: options.numClassEmbeds }
          : null,
    classEmbeddingsConcat: false,
    down,
    mid,
    up,
    normNumGroupsOut: groups,
    normEps: options.normEps,
    convInKernel: 3,
    convOutKernel: 3,
  };
}
