import * as tf from '@tensorflow/tfjs-core';

/** Token ids or an attention mask a text encoder cannot take; `input` names which. */
export class TextInputError extends Error {
  constructor(
    message: string,
    /** The argument at fault. */
    readonly input: 'inputIds' | 'attentionMask',
  ) {
    super(message);
    this.name = 'TextInputError';
  }
}

/** Validated token ids: their values (row-major) and shape. */
export interface CheckedInputIds {
  values: Int32Array;
  batch: number;
  length: number;
}

/**
 * Checks token ids [B, S] (int32, or float32 holding integers) against the model: rank 2, at
 * least one token, at most `maxPositions` tokens, every id in [0, vocabSize). Reads the ids
 * (B x S integers) once; throws a `TextInputError` naming the first bad id and its position.
 */
export function checkInputIds(inputIds: tf.Tensor, vocabSize: number, maxPositions: number, context: string): CheckedInputIds {
  if (!(inputIds instanceof tf.Tensor))
    throw new TextInputError(`${context}: inputIds must be a tf.Tensor [batch, sequence] of token ids`, 'inputIds');
  if (inputIds.rank !== 2) {
    const hint = inputIds.rank === 1 ? ' (one sequence: reshape it to [1, S])' : '';
    throw new TextInputError(
      `${context}: inputIds must have rank 2 [batch, sequence], got shape [${inputIds.shape.join(', ')}]${hint}`,
      'inputIds',
    );
  }
  if (inputIds.dtype !== 'int32' && inputIds.dtype !== 'float32') {
    throw new TextInputError(`${context}: inputIds must be int32 token ids, got dtype ${inputIds.dtype}`, 'inputIds');
  }
  const [batch, length] = inputIds.shape;
  if (batch === 0 || length === 0)
    throw new TextInputError(`${context}: inputIds must not be empty, got shape [${batch}, ${length}]`, 'inputIds');
  if (length > maxPositions) {
    throw new TextInputError(
      `${context}: sequences of ${length} tokens are longer than max_position_embeddings = ${maxPositions}`,
      'inputIds',
    );
  }
  const raw = inputIds.dataSync();
  const values = new Int32Array(raw.length);
  for (let i = 0; i < raw.length; i += 1) {
    const id = raw[i];
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new TextInputError(
        `${context}: token id ${id} at [${Math.floor(i / length)}, ${i % length}] is outside the vocabulary [0, ${vocabSize})`,
        'inputIds',
      );
    }
    values[i] = id;
  }
  return { values, batch, length };
}

/**
 * The position of each row's pooled token, as transformers' `CLIPTextTransformer` picks it. With
 * `eosTokenId === 2` (configs saved before transformers' PR #24773, e.g. SD 1.x and 2.x) it is the
 * position of the row's largest id (its first occurrence), OpenAI CLIP's rule, which finds
 * `<|endoftext|>` (49407) in the standard vocabulary. Otherwise it is the first position equal to
 * `eosTokenId`, or 0 when the row has none (transformers' `argmax` of an all-false row).
 */
export function pooledPositions(ids: CheckedInputIds, eosTokenId: number): Int32Array {
  const { values, batch, length } = ids;
  const positions = new Int32Array(batch);
  for (let row = 0; row < batch; row += 1) {
    const offset = row * length;
    let best = 0;
    if (eosTokenId === 2) {
      for (let column = 1; column < length; column += 1) if (values[offset + column] > values[offset + best]) best = column;
    } else {
      for (let column = 0; column < length; column += 1) {
        if (values[offset + column] === eosTokenId) {
          best = column;
          break;
        }
      }
    }
    positions[row] = best;
  }
  return positions;
}

/** The score bias of masked pairs: float32's lowest value, as transformers uses `finfo.min`. */
const MASKED = -3.4028234663852886e38;

/**
 * The additive attention bias [B, heads, S, S]: 0 where query i may attend to key j (j <= i, and
 * the key is not masked out by `attentionMask` [B, S] of 1 = keep, 0 = padding), float32's lowest
 * value elsewhere. A query with no visible key then attends uniformly, as in transformers. It is
 * built at full size (B x heads x S x S floats, 142k for SD's batch of 2 with 12 heads) so that no
 * backend has to broadcast it in every layer.
 */
export function attentionBias(
  batch: number,
  heads: number,
  length: number,
  attentionMask: tf.Tensor | undefined,
  context: string,
): tf.Tensor4D {
  let keep: ArrayLike<number> | undefined;
  if (attentionMask !== undefined) {
    if (
      !(attentionMask instanceof tf.Tensor) ||
      attentionMask.rank !== 2 ||
      attentionMask.shape[0] !== batch ||
      attentionMask.shape[1] !== length
    ) {
      const shape = attentionMask instanceof tf.Tensor ? `[${attentionMask.shape.join(', ')}]` : String(attentionMask);
      throw new TextInputError(
        `${context}: attentionMask must have the shape of inputIds [${batch}, ${length}], got ${shape}`,
        'attentionMask',
      );
    }
    keep = attentionMask.dataSync();
    for (let i = 0; i < keep.length; i += 1) {
      if (keep[i] !== 0 && keep[i] !== 1) {
        throw new TextInputError(
          `${context}: attentionMask values must be 0 or 1, got ${keep[i]} at [${Math.floor(i / length)}, ${i % length}]`,
          'attentionMask',
        );
      }
    }
  }
  const block = length * length;
  const bias = new Float32Array(batch * heads * block);
  for (let row = 0; row < batch; row += 1) {
    const offset = row * heads * block;
    for (let query = 0; query < length; query += 1) {
      for (let key = 0; key < length; key += 1) {
        const visible = key <= query && (keep === undefined || keep[row * length + key] === 1);
        if (!visible) bias[offset + query * length + key] = MASKED;
      }
    }
    for (let head = 1; head < heads; head += 1) bias.copyWithin(offset + head * block, offset, offset + block);
  }
  return tf.tensor4d(bias, [batch, heads, length, length]);
}
