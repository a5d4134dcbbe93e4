import * as tf from '@tensorflow/tfjs-core';
import { Embedding } from '../layers/embedding.js';
import { LayerNorm } from '../layers/layer-norm.js';
import type { ParameterScope } from '../parameters/parameter-store.js';
import { CLIPEncoderLayer } from './clip-encoder-layer.js';
import type { CLIPTextOptions } from './clip-text-config.js';
import { attentionBias, checkInputIds, pooledPositions } from './text-inputs.js';

/** What `CLIPTextModel.encode` returns; the caller owns (and disposes) every tensor. */
export interface CLIPTextModelOutput {
  /** `final_layer_norm` of the last layer's output [B, S, D]. */
  lastHiddenState: tf.Tensor3D;
  /** `lastHiddenState` at each row's end-of-text token [B, D]. */
  poolerOutput: tf.Tensor2D;
  /** The embeddings, then each layer's output (before `final_layer_norm`): numHiddenLayers + 1 tensors [B, S, D]. */
  hiddenStates?: tf.Tensor3D[];
}

/**
 * transformers' `CLIPTextTransformer` (parameters under `text_model.`): token plus position
 * embeddings, a causal stack of pre-LayerNorm encoder layers, `final_layer_norm`, and the pooled
 * end-of-text state.
 */
export class CLIPTextTransformer {
  readonly tokenEmbedding: Embedding;
  readonly positionEmbedding: Embedding;
  readonly layers: CLIPEncoderLayer[] = [];
  readonly finalLayerNorm: LayerNorm;

  constructor(
    scope: ParameterScope,
    readonly options: CLIPTextOptions,
    private readonly context: string,
  ) {
    const embeddings = scope.child('embeddings');
    this.tokenEmbedding = new Embedding(embeddings.child('token_embedding'), options.vocabSize, options.hiddenSize);
    this.positionEmbedding = new Embedding(embeddings.child('position_embedding'), options.maxPositionEmbeddings, options.hiddenSize);
    const layers = scope.child('encoder').child('layers');
    for (let i = 0; i < options.numHiddenLayers; i += 1) {
      this.layers.push(
        new CLIPEncoderLayer(layers.child(i), {
          hiddenSize: options.hiddenSize,
          intermediateSize: options.intermediateSize,
          heads: options.numAttentionHeads,
          activation: options.hiddenAct,
          layerNormEps: options.layerNormEps,
        }),
      );
    }
    this.finalLayerNorm = new LayerNorm(scope.child('final_layer_norm'), options.hiddenSize, options.layerNormEps);
  }

  /**
   * Encodes token ids [B, S] (S <= maxPositionEmbeddings), optionally with an attention mask
   * [B, S] (1 = token, 0 = padding) on top of the causal mask; keeps every layer's hidden state
   * when `outputHiddenStates` is set.
   */
  apply(inputIds: tf.Tensor2D, attentionMask: tf.Tensor2D | undefined, outputHiddenStates: boolean): CLIPTextModelOutput {
    const { vocabSize, maxPositionEmbeddings, hiddenSize, eosTokenId } = this.options;
    const ids = checkInputIds(inputIds, vocabSize, maxPositionEmbeddings, this.context);
    const { batch, length } = ids;
    const pooled = pooledPositions(ids, eosTokenId);
    return tf.tidy(() => {
      const bias = attentionBias(batch, this.options.numAttentionHeads, length, attentionMask, this.context);
      const flatIds = tf.tensor1d(ids.values, 'int32');
      const tokens = tf.reshape(this.tokenEmbedding.apply(flatIds), [batch, length, hiddenSize]);
      const positions = tf.slice(this.positionEmbedding.weight, [0, 0], [length, hiddenSize]);
      let hidden = tf.add(tokens, positions) as tf.Tensor3D;
      const hiddenStates: tf.Tensor3D[] = [hidden];
      for (const layer of this.layers) {
        hidden = layer.apply(hidden, bias);
        if (outputHiddenStates) hiddenStates.push(hidden);
      }
      const lastHiddenState = this.finalLayerNorm.apply(hidden);
      const rows = Int32Array.from(pooled, (position, row) => row * length + position);
      const poolerOutput = tf.gather(tf.reshape(lastHiddenState, [batch * length, hiddenSize]), tf.tensor1d(rows, 'int32')) as tf.Tensor2D;
      return outputHiddenStates ? { lastHiddenState, poolerOutput, hiddenStates } : { lastHiddenState, poolerOutput };
    });
  }
}
