import type { BlockSettings } from './block-types.js';
import type { ResnetBlock2DOptions } from './resnet-block-2d.js';

/** The options of a block's resnet from the block settings. */
export function resnetOptions(
  settings: BlockSettings,
  inChannels: number,
  outChannels: number,
  outputScaleFactor = settings.resnetOutScaleFactor,
): ResnetBlock2DOptions {
  return {
    inChannels,
    outChannels,
    tembChannels: settings.tembChannels,
    groups: settings.resnetGroups,
    eps: settings.resnetEps,
    dropout: settings.dropout,
    timeEmbeddingNorm: settings.resnetTimeScaleShift,
    nonLinearity: settings.resnetActFn,
    outputScaleFactor,
    skipTimeAct: settings.resnetSkipTimeAct,
  };
}
