import * as tf from '@tensorflow/tfjs-core';
import { gelu, geluTanh, quickGelu, silu } from '../layers/activation.js';
import { LayerNorm } from '../layers/layer-norm.js';
import { Linear } from '../layers/linear.js';
import { scaledDotProductAttention } from '../layers/scaled-dot-product-attention.js';
import type { ParameterScope } from '../parameters/parameter-store.js';
import type { CLIPTextActivation } from './clip-text-config.js';

type Activation = <T extends tf.Tensor>(x: T) => T;

const ACTIVATIONS: Record<CLIPTextActivation, Activation> = {
  quick_gelu: quickGelu,
  gelu,
  gelu_new: geluTanh,
  gelu_pytorch_tanh: geluTanh,
  relu: <T extends tf.Tensor>(x: T): T => tf.relu(x),
  silu,
  swish: silu,
};

/** Sizes of one encoder layer. */
export interface CLIPEncoderLayerOptions {
  hiddenSize: number;
  intermediateSize: number;
  heads: number;
  activation: CLIPTextActivation;
  layerNormEps: number;
}

/**
 * One pre-LayerNorm transformer layer of CLIP (transformers' `CLIPEncoderLayer`):
 * `h + attention(layer_norm1(h))`, then `h + fc2(act(fc1(layer_norm2(h))))`. Parameter names
 * follow transformers: `self_attn.{q,k,v,out}_proj`, `layer_norm1`, `mlp.fc1`, `mlp.fc2`, `layer_norm2`.
 */
export class CLIPEncoderLayer {
  readonly layerNorm1: LayerNorm;
  readonly layerNorm2: LayerNorm;
  readonly qProj: Linear;
  readonly kProj: Linear;
  readonly vProj: Linear;
  readonly outProj: Linear;
  readonly fc1: Linear;
  readonly fc2: Linear;
  private readonly activation: Activation;

  constructor(
    scope: ParameterScope,
    readonly options: CLIPEncoderLayerOptions,
  ) {
    const { hiddenSize, intermediateSize, layerNormEps } = options;
    const attention = scope.child('self_attn');
    // Created in transformers' module order, so `parameterNames()` lists them as PyTorch does.
    this.kProj = new Linear(attention.child('k_proj'), hiddenSize, hiddenSize);
    this.vProj = new Linear(attention.child('v_proj'), hiddenSize, hiddenSize);
    this.qProj = new Linear(attention.child('q_proj'), hiddenSize, hiddenSize);
    this.outProj = new Linear(attention.child('out_proj'), hiddenSize, hiddenSize);
    this.layerNorm1 = new LayerNorm(scope.child('layer_norm1'), hiddenSize, layerNormEps);
    this.fc1 = new Linear(scope.child('mlp').child('fc1'), hiddenSize, intermediateSize);
    this.fc2 = new Linear(scope.child('mlp').child('fc2'), intermediateSize, hiddenSize);
    this.layerNorm2 = new LayerNorm(scope.child('layer_norm2'), hiddenSize, layerNormEps);
    this.activation = ACTIVATIONS[options.activation];
  }

  /** Applies the layer to `hidden` [B, S, D]; `bias` is the additive attention mask [B, heads, S, S]. */
  apply(hidden: tf.Tensor3D, bias: tf.Tensor4D): tf.Tensor3D {
    return tf.tidy(() => {
      const normalized = this.layerNorm1.apply(hidden);
      const attended = scaledDotProductAttention(this.qProj.apply(normalized), this.kProj.apply(normalized), this.vProj.apply(normalized), {
        heads: this.options.heads,
        bias,
      });
      const afterAttention = tf.add(hidden, this.outProj.apply(attended));
      const mlp = this.fc2.apply(this.activation(this.fc1.apply(this.layerNorm2.apply(afterAttention))));
      return tf.add(afterAttention, mlp);
    });
  }
}
