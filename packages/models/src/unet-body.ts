import * as tf from '@tensorflow/tfjs-core';
import { DOWN_BLOCKS, MID_BLOCKS, UP_BLOCKS, type DownBlockType, type MidBlockType, type UpBlockType } from './block-registry.js';
import type { DownBlock, DownBlockSpec, MidBlock, MidBlockSpec, UpBlock, UpBlockSpec } from './blocks/block-types.js';
import type { ForwardContext } from './blocks/forward-context.js';
import { GroupNorm } from './blocks/group-norm.js';
import { TimestepEmbedding } from './blocks/timestep-embedding.js';
import { Timesteps, type TimestepsOptions } from './blocks/timesteps.js';
import { activation, type ActivationName } from './layers/activation.js';
import { Conv2d } from './layers/conv-2d.js';
import { Embedding } from './layers/embedding.js';
import type { ParameterScope } from './parameters/parameter-store.js';
import { batchTimesteps } from './timestep-input.js';

/** How class labels enter the embedding. */
export type ClassEmbeddingSpec = { kind: 'table'; count: number } | { kind: 'timestep' };

/** Everything needed to build a UNet, resolved from a model's config. */
export interface UNetBodySpec {
  inChannels: number;
  outChannels: number;
  blockOutChannels: number[];
  centerInputSample: boolean;
  /** Sinusoidal projection, or a learned table of `numTrainTimesteps` rows. */
  timeProjection: { kind: 'positional'; options: TimestepsOptions } | { kind: 'learned'; numTrainTimesteps: number };
  timeEmbedDim: number;
  actFn: ActivationName;
  timestepPostAct: ActivationName | null;
  /** Activation on the summed embedding before the blocks (`time_embedding_act_fn`). */
  timeEmbeddingActFn: ActivationName | null;
  classEmbedding: ClassEmbeddingSpec | null;
  /** Concatenate the class embedding instead of adding it (`class_embeddings_concat`). */
  classEmbeddingsConcat: boolean;
  down: { type: DownBlockType; spec: DownBlockSpec }[];
  mid: { type: MidBlockType; spec: MidBlockSpec } | null;
  up: { type: UpBlockType; spec: UpBlockSpec }[];
  /** Group count of the output norm; `null` for no norm and activation before `conv_out`. */
  normNumGroupsOut: number | null;
  normEps: number;
  convInKernel: number;
  convOutKernel: number;
}

/** Inputs of one forward pass, already validated. */
export interface UNetBodyInputs {
  sample: tf.Tensor4D;
  /** One timestep per batch item [B]. */
  timesteps: tf.Tensor1D;
  classLabels?: tf.Tensor1D;
  encoderHiddenStates?: tf.Tensor3D;
  training: boolean;
}

/**
 * The shared body of `UNet2DModel` and `UNet2DConditionModel` (NHWC): time (and class)
 * embedding, `conv_in`, the down path keeping skip activations, the mid block, the up path
 * consuming them, then norm, activation and `conv_out`.
 */
export class UNetBody {
  readonly convIn: Conv2d;
  readonly timeProj?: Timesteps;
  readonly timeTable?: Embedding;
  readonly timeEmbedding: TimestepEmbedding;
  readonly classTable?: Embedding;
  readonly classTimestepEmbedding?: TimestepEmbedding;
  readonly downBlocks: DownBlock[];
  readonly midBlock?: MidBlock;
  readonly upBlocks: UpBlock[];
  readonly convNormOut?: GroupNorm;
  readonly convOut: Conv2d;
  private readonly act: <T extends tf.Tensor>(x: T) => T;

  constructor(
    scope: ParameterScope,
    readonly spec: UNetBodySpec,
  ) {
    const first = spec.blockOutChannels[0];
    const inPadding = (spec.convInKernel - 1) / 2;
    this.convIn = new Conv2d(scope.child('conv_in'), {
      inChannels: spec.inChannels,
      outChannels: first,
      kernelSize: spec.convInKernel,
      padding: inPadding,
    });
    let timestepInputDim = first;
    if (spec.timeProjection.kind === 'positional') {
      this.timeProj = new Timesteps(spec.timeProjection.options);
      timestepInputDim = spec.timeProjection.options.numChannels;
    } else {
      this.timeTable = new Embedding(scope.child('time_proj'), spec.timeProjection.numTrainTimesteps, first);
    }
    this.timeEmbedding = new TimestepEmbedding(scope.child('time_embedding'), {
      inChannels: timestepInputDim,
      timeEmbedDim: spec.timeEmbedDim,
      actFn: spec.actFn,
      postActFn: spec.timestepPostAct,
    });
    if (spec.classEmbedding?.kind === 'table') {
      this.classTable = new Embedding(scope.child('class_embedding'), spec.classEmbedding.count, spec.timeEmbedDim);
    } else if (spec.classEmbedding?.kind === 'timestep') {
      this.classTimestepEmbedding = new TimestepEmbedding(scope.child('class_embedding'), {
        inChannels: timestepInputDim,
        timeEmbedDim: spec.timeEmbedDim,
        actFn: spec.actFn,
      });
    }
    this.downBlocks = spec.down.map(({ type, spec: blockSpec }, i) => DOWN_BLOCKS[type](scope.child('down_blocks').child(i), blockSpec));
    if (spec.mid) this.midBlock = MID_BLOCKS[spec.mid.type](scope.child('mid_block'), spec.mid.spec);
    this.upBlocks = spec.up.map(({ type, spec: blockSpec }, i) => UP_BLOCKS[type](scope.child('up_blocks').child(i), blockSpec));
    if (spec.normNumGroupsOut !== null) {
      this.convNormOut = new GroupNorm(scope.child('conv_norm_out'), spec.normNumGroupsOut, first, spec.normEps);
    }
    const outPadding = (spec.convOutKernel - 1) / 2;
    this.convOut = new Conv2d(scope.child('conv_out'), {
      inChannels: first,
      outChannels: spec.outChannels,
      kernelSize: spec.convOutKernel,
      padding: outPadding,
    });
    this.act = activation(spec.actFn);
  }

  /** Whether any block attends to `encoderHiddenStates`. */
  get hasCrossAttention(): boolean {
    return (
      this.downBlocks.some((block) => block.hasCrossAttention) ||
      this.upBlocks.some((block) => block.hasCrossAttention) ||
      (this.midBlock?.hasCrossAttention ?? false)
    );
  }

  /** Whether class labels are required. */
  get hasClassEmbedding(): boolean {
    return this.spec.classEmbedding !== null;
  }

  /** The number of stride-2 downsamples (the spatial size must be a multiple of 2 to this power). */
  get downsampleCount(): number {
    return this.spec.down.filter(({ spec }) => spec.addDownsample).length;
  }

  /** The sinusoidal (or learned) projection of timesteps [B] -> [B, blockOutChannels[0]]. */
  projectTimesteps(timesteps: tf.Tensor1D): tf.Tensor2D {
    if (this.timeProj) return this.timeProj.apply(timesteps);
    return this.timeTable!.apply(timesteps);
  }

  /** The block embedding [B, tembChannels] from timesteps and optional class labels. */
  embed(timesteps: tf.Tensor1D, classLabels?: tf.Tensor1D): tf.Tensor2D {
    return tf.tidy(() => {
      let embedding = this.timeEmbedding.apply(this.projectTimesteps(timesteps));
      if (this.spec.classEmbedding && classLabels) {
        const classEmbedding = this.classTable
          ? this.classTable.apply(classLabels)
          : this.classTimestepEmbedding!.apply(this.projectTimesteps(classLabels));
        embedding = this.spec.classEmbeddingsConcat ? tf.concat([embedding, classEmbedding], 1) : tf.add(embedding, classEmbedding);
      }
      if (this.spec.timeEmbeddingActFn) embedding = activation(this.spec.timeEmbeddingActFn)(embedding);
      return embedding;
    });
  }

  /**
   * One forward pass in `tf.tidy` on checked inputs, with `timestep` (a number or a [1] or [B]
   * tensor) broadcast to the batch; returns [B, H, W, outChannels].
   */
  run(
    sample: tf.Tensor4D,
    timestep: number | tf.Tensor1D,
    conditioning: Pick<UNetBodyInputs, 'classLabels' | 'encoderHiddenStates'>,
    training: boolean,
    context: string,
  ): tf.Tensor4D {
    return tf.tidy(() => this.apply({ sample, timesteps: batchTimesteps(timestep, sample.shape[0], context), ...conditioning, training }));
  }

  /** One forward pass; returns [B, H, W, outChannels]. */
  apply(inputs: UNetBodyInputs): tf.Tensor4D {
    return tf.tidy(() => {
      let sample = inputs.sample;
      if (this.spec.centerInputSample) sample = tf.sub(tf.mul(sample, 2), 1);
      const context: ForwardContext = {
        temb: this.embed(inputs.timesteps, inputs.classLabels),
        encoderHiddenStates: inputs.encoderHiddenStates,
        training: inputs.training,
      };
      let hidden = this.convIn.apply(sample);
      const residuals: tf.Tensor4D[] = [hidden];
      for (const block of this.downBlocks) {
        const result = block.apply(hidden, context);
        hidden = result.hidden;
        residuals.push(...result.residuals);
      }
      if (this.midBlock) hidden = this.midBlock.apply(hidden, context);
      for (const block of this.upBlocks) {
        const used = residuals.splice(residuals.length - block.skipCount, block.skipCount);
        hidden = block.apply(hidden, used, context);
      }
      if (this.convNormOut) hidden = this.act(this.convNormOut.apply(hidden));
      return this.convOut.apply(hidden);
    });
  }
}
