import * as tf from '@tensorflow/tfjs-core';

/** How a tiled pass cuts its input and blends its outputs (Diffusers' tiled VAE encode and decode). */
export interface TileLayout {
  /** Side of an input tile (`tile_sample_min_size` when encoding, `tile_latent_min_size` when decoding). */
  inputTile: number;
  /** Side of the output of a full input tile (the other one of the two). */
  outputTile: number;
  /** Fraction of a tile that overlaps its neighbour (`tile_overlap_factor`, Diffusers' default 0.25). */
  overlapFactor: number;
}

/**
 * `b` with its first `e = min(extent, sizes)` rows (axis 1, Diffusers' `blend_v`) or columns
 * (axis 2, `blend_h`) replaced by `a`'s last `e` weighted `1 - y / e` plus `b`'s weighted `y / e`.
 */
function blend(a: tf.Tensor4D, b: tf.Tensor4D, extent: number, axis: 1 | 2): tf.Tensor4D {
  const e = Math.min(a.shape[axis], b.shape[axis], extent);
  if (e <= 0) return b;
  const weights = new Float32Array(e);
  const complements = new Float32Array(e);
  for (let y = 0; y < e; y += 1) {
    weights[y] = y / e;
    complements[y] = 1 - y / e;
  }
  const shape: [number, number, number, number] = axis === 1 ? [1, e, 1, 1] : [1, 1, e, 1];
  const begin = (offset: number): [number, number, number, number] => (axis === 1 ? [0, offset, 0, 0] : [0, 0, offset, 0]);
  const size = (length: number): [number, number, number, number] => (axis === 1 ? [-1, length, -1, -1] : [-1, -1, length, -1]);
  const tail = tf.slice(a, begin(a.shape[axis] - e), size(e));
  const head = tf.slice(b, begin(0), size(e));
  const mixed = tf.add(tf.mul(tail, tf.tensor4d(complements, shape)), tf.mul(head, tf.tensor4d(weights, shape))) as tf.Tensor4D;
  if (e === b.shape[axis]) return mixed;
  return tf.concat([mixed, tf.slice(b, begin(e), size(b.shape[axis] - e))], axis);
}

/** The start offsets of tiles along a side: 0, stride, 2 stride, ... below `size`. */
function tileStarts(size: number, stride: number): number[] {
  const starts: number[] = [];
  for (let start = 0; start < size; start += stride) starts.push(start);
  return starts;
}

/**
 * Applies `fn` to overlapping tiles of `x` (NHWC) and stitches the outputs as Diffusers'
 * `tiled_decode` / `_tiled_encode` do: tiles start every `floor(inputTile * (1 - overlapFactor))`
 * pixels; each output tile is blended with the (already blended) tile above and the one to its
 * left over `floor(outputTile * overlapFactor)` rows and columns, linearly, then cropped to
 * `outputTile - blend` rows and columns. Only two rows of tiles are alive at a time.
 */
export function tiledApply(x: tf.Tensor4D, layout: TileLayout, fn: (tile: tf.Tensor4D) => tf.Tensor4D): tf.Tensor4D {
  const stride = Math.trunc(layout.inputTile * (1 - layout.overlapFactor));
  const blendExtent = Math.trunc(layout.outputTile * layout.overlapFactor);
  const limit = layout.outputTile - blendExtent;
  if (stride < 1 || limit < 1) {
    throw new RangeError(`tiledApply: tiles of ${layout.inputTile} with overlap ${layout.overlapFactor} do not advance`);
  }
  const [, height, width] = x.shape;
  return tf.tidy(() => {
    const resultRows: tf.Tensor4D[] = [];
    let above: tf.Tensor4D[] | null = null;
    for (const top of tileStarts(height, stride)) {
      const row: tf.Tensor4D[] = [];
      tileStarts(width, stride).forEach((left, j) => {
        row.push(
          tf.tidy(() => {
            const size: [number, number, number, number] = [
              -1,
              Math.min(layout.inputTile, height - top),
              Math.min(layout.inputTile, width - left),
              -1,
            ];
            let tile = fn(tf.slice(x, [0, top, left, 0], size));
            if (above) tile = blend(above[j], tile, blendExtent, 1);
            if (j > 0) tile = blend(row[j - 1], tile, blendExtent, 2);
            return tile;
          }),
        );
      });
      resultRows.push(
        tf.tidy(() =>
          tf.concat(
            row.map((tile) => tf.slice(tile, [0, 0, 0, 0], [-1, Math.min(limit, tile.shape[1]), Math.min(limit, tile.shape[2]), -1])),
            2,
          ),
        ),
      );
      if (above) tf.dispose(above);
      above = row;
    }
    return tf.concat(resultRows, 1);
  });
}

/** Applies `fn` to each batch item of `x` alone and concatenates the results (Diffusers' slicing). */
export function slicedApply(x: tf.Tensor4D, fn: (item: tf.Tensor4D) => tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const parts: tf.Tensor4D[] = [];
    for (let b = 0; b < x.shape[0]; b += 1) parts.push(tf.tidy(() => fn(tf.slice(x, [b, 0, 0, 0], [1, -1, -1, -1]))));
    return tf.concat(parts, 0);
  });
}
