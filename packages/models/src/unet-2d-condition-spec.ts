import type { BlockSettings } from './blocks/block-types.js';
import { commonBodySpec, downBlockChannels, positionalTimeProjection, resnetSettings, upBlockChannels } from './unet-2d-common.js';
import { isBoolean, perBlock, perBlockInteger, type UNet2DConditionOptions } from './unet-2d-condition-config.js';
import type { UNetBodySpec } from './unet-body.js';

/** Resolves `UNet2DConditionModel` options into the block layout Diffusers' constructor builds. */
export function resolveUNet2DConditionSpec(options: UNet2DConditionOptions): UNetBodySpec {
  const channels = options.blockOutChannels;
  const levels = channels.length;
  const groups = options.normNumGroups ?? 32;
  const common = commonBodySpec(options);
  const blocksTembDim = options.classEmbeddingsConcat ? 2 * common.timeEmbedDim : common.timeEmbedDim;
  // Diffusers' quirk: `num_attention_heads` falls back to `attention_head_dim`, which here counts heads.
  const heads = perBlockInteger(options.numAttentionHeads ?? options.attentionHeadDim, levels, 'numAttentionHeads');
  const headDims = perBlockInteger(options.attentionHeadDim, levels, 'attentionHeadDim');
  const crossDims = perBlockInteger(options.crossAttentionDim, levels, 'crossAttentionDim');
  const layers = perBlockInteger(options.layersPerBlock, levels, 'layersPerBlock');
  const transformerLayers = perBlockInteger(options.transformerLayersPerBlock, levels, 'transformerLayersPerBlock');
  const onlyCross = perBlock(options.onlyCrossAttention, levels, 'onlyCrossAttention', isBoolean, 'a boolean');

  const settings = (i: number, numLayers: number, depth: number, crossDim: number, headCount: number, only: boolean): BlockSettings => ({
    ...resnetSettings(options, blocksTembDim, groups),
    attentionHeadDim: headDims[i],
    numAttentionHeads: headCount,
    crossAttentionDim: crossDim,
    transformerLayersPerBlock: Array.from({ length: numLayers }, () => depth),
    useLinearProjection: options.useLinearProjection,
    onlyCrossAttention: only,
  });

  const down = options.downBlockTypes.map((type, i) => ({
    type,
    spec: {
      ...settings(i, layers[i], transformerLayers[i], crossDims[i], heads[i], onlyCross[i]),
      numLayers: layers[i],
      ...downBlockChannels(channels, i),
      downsamplePadding: options.downsamplePadding,
    },
  }));

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

  const reversedHeads = [...heads].reverse();
  const reversedLayers = [...layers].reverse();
  const reversedCross = [...crossDims].reverse();
  const reversedDepth = options.reverseTransformerLayersPerBlock ?? [...transformerLayers].reverse();
  const reversedOnly = [...onlyCross].reverse();
  const up = options.upBlockTypes.map((type, i) => {
    const numLayers = reversedLayers[i] + 1;
    return {
      type,
      spec: {
        // `attention_head_dim[i]` is not reversed in Diffusers; kept as is.
        ...settings(i, numLayers, reversedDepth[i], reversedCross[i], reversedHeads[i], reversedOnly[i]),
        numLayers,
        ...upBlockChannels(channels, i),
      },
    };
  });

  return {
    ...common,
    timeProjection: positionalTimeProjection(options),
    actFn: options.actFn,
    timestepPostAct: options.timestepPostAct,
    timeEmbeddingActFn: options.timeEmbeddingActFn,
    classEmbeddingsConcat: options.classEmbeddingsConcat,
    down,
    mid,
    up,
    normNumGroupsOut: options.normNumGroups,
    convInKernel: options.convInKernel,
    convOutKernel: options.convOutKernel,
  };
}
