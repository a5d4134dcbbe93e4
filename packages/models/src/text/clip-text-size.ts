/**
 * The size of a CLIP text encoder config, from a walk over the layers `CLIPTextTransformer`
 * builds (nothing is allocated): the family's `estimateSize`, held to the model budget before
 * `fromConfig` or `fromPretrained` builds anything.
 */
import type { LayerVisitor } from '../budget/layer-walk.js';
import type { ConfigSizeEstimate, ModelSizeEstimate } from '../budget/model-budget.js';
import { SizeTally, tallyEstimate } from '../budget/size-tally.js';
import type { CLIPTextOptions } from './clip-text-config.js';

/** Walks the text transformer over `tokens` tokens, then `text_projection` when `withProjection`. */
export function walkCLIPText(options: CLIPTextOptions, visitor: LayerVisitor, tokens: number, withProjection: boolean): void {
  const { hiddenSize: hidden, intermediateSize, numAttentionHeads, numHiddenLayers, vocabSize, maxPositionEmbeddings } = options;
  visitor.embedding(vocabSize, hidden);
  visitor.embedding(maxPositionEmbeddings, hidden);
  for (let i = 0; i < numHiddenLayers; i += 1) {
    visitor.unit(tokens, hidden, () => {
      visitor.norm(tokens, hidden);
      for (let j = 0; j < 4; j += 1) visitor.linear(tokens, hidden, hidden, true); // q, k, v, out
      visitor.attention(tokens, tokens, hidden, numAttentionHeads);
      visitor.norm(tokens, hidden);
      visitor.linear(tokens, hidden, intermediateSize, true);
      visitor.linear(tokens, intermediateSize, hidden, true);
    });
  }
  visitor.norm(tokens, hidden);
  if (withProjection) visitor.linear(1, hidden, options.projectionDim, false);
}

/**
 * Parameters and peak activation bytes of encoding `batch` prompts of `tokens` tokens (default:
 * one prompt of `max_position_embeddings`).
 */
export function estimateCLIPText(
  options: CLIPTextOptions,
  withProjection: boolean,
  size: { batch?: number; tokens?: number } = {},
): ModelSizeEstimate {
  const tally = new SizeTally();
  walkCLIPText(options, tally, size.tokens ?? options.maxPositionEmbeddings, withProjection);
  return tallyEstimate(tally, size.batch ?? 1, true);
}

/** The CLIP text families' `estimateSize`: one prompt as long as the position table. */
export function estimateCLIPTextConfig(options: CLIPTextOptions, withProjection: boolean): ConfigSizeEstimate {
  return {
    estimate: estimateCLIPText(options, withProjection),
    sampleSize: String(options.maxPositionEmbeddings),
    sizeKey: 'max_position_embeddings',
  };
}
