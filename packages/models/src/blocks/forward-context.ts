import type * as tf from '@tensorflow/tfjs-core';

/** What every block's forward pass may need besides its input. */
export interface ForwardContext {
  /** The block embedding [B, tembChannels] (time plus class); absent in models without one (the VAE). */
  temb?: tf.Tensor2D;
  /** Cross-attention context [B, S, D], for cross-attention blocks. */
  encoderHiddenStates?: tf.Tensor3D;
  /** Training mode: dropout is active only then. */
  training: boolean;
}
