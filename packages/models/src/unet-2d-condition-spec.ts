import type { BlockSettings } from './blocks/block-types.js';
import {
  isBoolean,
  isPositiveInteger,
  perBlock,
  type UNet2DConditionOptions,
} from './unet-2d-condition-config.js';
import type { UNetBodySpec } from './unet-body.js';

/** Resolves `UNet2DConditionModel` options into the block layout Diffusers' constructor builds. */
export function resolveUNet2DConditionSpec(options: UNet2DConditionOptions): UNetBodySpec {
  const channels = options.blockOutChannels;
  const levels = channels.length;
  const groups = options.normNumGroups ?? 32;
  const timeEmbedDim = options.timeEmbeddingDim ?? channels[0] * 4;
  const blocksTembDim = options.classEmbeddingsConcat ? 2 * timeEmbedDim : timeEmbedDim;
  // Diffusers' quirk: `num_attention_heads` falls back to `attention_head_dim`, which here counts heads.
  const heads = perBlock(options.numAttentionHeads ?? options.attentionHeadDim, levels, 'numAttentionHeads', isPositiveInteger, 'a positive integer');
  const headDims = perBlock(options.attentionHeadDim, levels, 'attentionHeadDim', isPositiveInteger, 'a positive integer');
  const crossDims = perBlock(options.crossAttentionDim, levels, 'crossAttentionDim', isPositiveInteger, 'a positive integer');
  const layers = perBlock(options.layersPerBlock, levels, 'layersPerBlock', isPositiveInteger, 'a positive integer');
  const transformerLayers = perBlock(options.transformerLayersPerBlock, levels, 'transformerLayersPerBlock', isPositiveInteger, 'a positive integer');
  const onlyCross = perBlock(options.onlyCrossAttention, levels, 'onlyCrossAttention', isBoolean, 'a boolean');

  const settings = (i: number, numLayers: number, depth: number, crossDim: number, headCount: number, only: boolean): BlockSettings => ({
    tembChannels: blocksTembDim,
    dropout: options.dropout,
    resnetEps: options.normEps,
    resnetActFn: options.actFn,
    resnetGroups: groups,
    resnetTimeScaleShift: options.resnetTimeScaleShift,
    // Diffusers passes these two only to block types we do not build, so they have no effect here.
    resnetSkipTimeAct: false,
    resnetOutScaleFactor: 1,
    attentionHeadDim: headDims[i],
    numAttentionHeads: headCount,
    crossAttentionDim: crossDim,
    transformerLayersPerBlock: Array.from({ length: numLayers }, () => depth),
    useLinearProjection: options.useLinearProjection,
    onlyCrossAttention: only,
  });

  let output = channels[0];
  const down = options.downBlockTypes.map((type, i) => {
    const input = output;
    output = channels[i];
    return {
      type,
      spec: {
        ...settings(i, layers[i], transformerLayers[i], crossDims[i], heads[i], onlyCross[i]),
        numLayers: layers[i],
        inChannels: input,
        outChannels: output,
        addDownsample: i !== levels - 1,
        downsamplePadding: options.downsamplePadding,
      },
    };
  });

  const last = levels - 1;
  const midCross = options.midBlockType === 'UNetMidBlock2DCrossAttn';
  const mid =
    options.midBlockType === null
      ? null
      : {
          type: options.midBlockType,
          spec: {
            ...settings(last, 1, transformerLayers[last], crossDims[last], heads[last], false),
            inChannels: channels[last],
            numLayers: midCross ? 1 : 0,
            outputScaleFactor: options.midBlockScaleFactor,
            attnGroups: null,
            addAttention: false,
          },
        };

  const reversedChannels = [...channels].reverse();
  const reversedHeads = [...heads].reverse();
  const reversedLayers = [...layers].reverse();
  const reversedCross = [...crossDims].reverse();
  const reversedDepth = options.reverseTransformerLayersPerBlock ?? [...transformerLayers].reverse();
  const reversedOnly = [...onlyCross].reverse();
  output = reversedChannels[0];
  const up = options.upBlockTypes.map((type, i) => {
    const previous = output;
    output = reversedChannels[i];
    const numLayers = reversedLayers[i] + 1;
    return {
      type,
      spec: {
        // `attention_head_dim[i]` is not reversed in Diffusers; kept as is.
        ...settings(i, numLayers, reversedDepth[i], reversedCross[i], reversedHeads[i], reversedOnly[i]),
        numLayers,
        inChannels: reversedChannels[Math.min(i + 1, levels - 1)],
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
    timeProjection: { kind: 'positional', options: { numChannels: channels[0], flipSinToCos: options.flipSinToCos, downscaleFreqShift: options.freqShift } },
    timeEmbedDim,
    actFn: options.actFn,
    timestepPostAct: options.timestepPostAct,
    timeEmbeddingActFn: options.timeEmbeddingActFn,
    classEmbedding:
      options.classEmbedType === 'timestep'
        ? { kind: 'timestep' }
        : options.numClassEmbeds !== null
          ? { kind: 'table', count: options.numClassEmbeds }
          : null,
    classEmbeddingsConcat: options.classEmbeddingsConcat,
    down,
    mid,
    up,
    normNumGroupsOut: options.normNumGroups,
    normEps: options.normEps,
    convInKernel: options.convInKernel,
    convOutKernel: options.convOutKernel,
  };
}
