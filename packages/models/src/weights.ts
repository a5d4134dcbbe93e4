import * as tf from '@tensorflow/tfjs-core';
import { WeightsError } from '@diffusion-ts/core';
import type { Parameter, ParameterLayout, ParameterStore } from './parameters/parameter-store.js';

/** A stored tensor as read from a safetensors file (structurally core's `SafetensorsTensor`). */
export interface WeightTensor {
  dtype: string;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Int16Array | Uint16Array | Uint32Array;
}

/** A float32 tensor in Diffusers' (PyTorch) layout, ready to be written to safetensors. */
export interface ExportedWeight {
  dtype: 'F32';
  shape: number[];
  data: Float32Array;
}

/**
 * Weights that are missing or have the wrong shape (or, when loading strictly, unused): core's
 * `WeightsError` (`missing`, `mismatched` and `unexpected` list the names).
 */
export { WeightsError };

/** The PyTorch shape of a parameter held in our layout. */
export function diffusersShape(layout: ParameterLayout, shape: readonly number[]): number[] {
  switch (layout) {
    case 'conv':
      // HWIO -> OIHW
      return [shape[3], shape[2], shape[0], shape[1]];
    case 'linear':
      return [shape[1], shape[0]];
    case 'plain':
      return [...shape];
  }
}

/** The axis order that takes a Diffusers-layout tensor to ours (OIHW -> HWIO, [out, in] -> [in, out]); null for `plain`. */
const FROM_DIFFUSERS: Record<ParameterLayout, number[] | null> = { conv: [2, 3, 1, 0], linear: [1, 0], plain: null };
/** The axis order that takes our tensor back to Diffusers' layout. */
const TO_DIFFUSERS: Record<ParameterLayout, number[] | null> = { conv: [3, 2, 0, 1], linear: [1, 0], plain: null };

/**
 * A tensor of `data` in `shape` with its axes reordered by `perm` (null: unchanged). tfjs' cpu
 * backend transposes with per-element index arithmetic (about 8 s for a 36M-parameter UNet),
 * so there the values are reordered by plain loops first; other backends' own kernels are faster.
 */
function permutedTensor(data: Float32Array, shape: number[], perm: readonly number[] | null): tf.Tensor {
  if (perm === null) return tf.tensor(data, shape, 'float32');
  if (tf.getBackend() === 'cpu')
    return tf.tensor(
      permuted(data, shape, perm),
      perm.map((axis) => shape[axis]),
      'float32',
    );
  return tf.tidy(() => tf.transpose(tf.tensor(data, shape, 'float32'), [...perm]));
}

/** `data` of `shape` with its axes reordered by `perm` (as `tf.transpose`; ranks 2 and 4). */
function permuted(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const rank = shape.length;
  const inputStrides = new Array<number>(rank);
  for (let axis = rank - 1, stride = 1; axis >= 0; axis -= 1) {
    inputStrides[axis] = stride;
    stride *= shape[axis];
  }
  // Pad to four axes (leading size-1 axes) so one loop nest serves ranks 2 and 4.
  const sizes = [1, 1, 1, 1];
  const strides = [0, 0, 0, 0];
  perm.forEach((axis, i) => {
    sizes[4 - rank + i] = shape[axis];
    strides[4 - rank + i] = inputStrides[axis];
  });
  const [n0, n1, n2, n3] = sizes;
  const [s0, s1, s2, s3] = strides;
  const output = new Float32Array(data.length);
  let k = 0;
  for (let a = 0; a < n0; a += 1) {
    for (let b = 0; b < n1; b += 1) {
      for (let c = 0; c < n2; c += 1) {
        const base = a * s0 + b * s1 + c * s2;
        for (let d = 0; d < n3; d += 1) output[k++] = data[base + d * s3];
      }
    }
  }
  return output;
}

/**
 * Old Diffusers checkpoints (e.g. `google/ddpm-cifar10-32`) name the attention projections
 * `query`, `key`, `value` and `proj_attn`; Diffusers renames them when loading, and so do we.
 */
const DEPRECATED_ATTENTION_NAMES: [RegExp, string][] = [
  [/\.attentions\.(\d+)\.query\./, '.attentions.$1.to_q.'],
  [/\.attentions\.(\d+)\.key\./, '.attentions.$1.to_k.'],
  [/\.attentions\.(\d+)\.value\./, '.attentions.$1.to_v.'],
  [/\.attentions\.(\d+)\.proj_attn\./, '.attentions.$1.to_out.0.'],
];

function currentName(name: string): string {
  for (const [pattern, replacement] of DEPRECATED_ATTENTION_NAMES) {
    if (pattern.test(name)) return name.replace(pattern, replacement);
  }
  return name;
}

function toFloat32(data: WeightTensor['data'], name: string): Float32Array {
  if (data instanceof Float32Array) return data;
  if (data instanceof Float64Array) return Float32Array.from(data);
  throw new Error(`weights: tensor '${name}' is not floating point`);
}

/** What `importWeights` found. */
export interface ImportReport {
  /** Names in the file that the model does not use. */
  unexpected: string[];
}

/**
 * Assigns Diffusers-named tensors to the store's variables, converting the layout. Throws a
 * `WeightsError` listing every missing and mis-shaped name (and, with `strict`, every unused
 * one) before assigning anything; names the model does not use are returned as `unexpected`.
 */
export function importWeights(
  store: ParameterStore,
  tensors: Record<string, WeightTensor>,
  source = 'weights',
  strict = false,
): ImportReport {
  const byName = new Map<string, { original: string; tensor: WeightTensor }>();
  for (const [name, tensor] of Object.entries(tensors)) byName.set(currentName(name), { original: name, tensor });
  const missing: string[] = [];
  const mismatched: string[] = [];
  const used = new Set<string>();
  const assignments: { parameter: Parameter; tensor: WeightTensor; name: string }[] = [];
  for (const parameter of store.list()) {
    const found = byName.get(parameter.name);
    if (!found) {
      missing.push(parameter.name);
      continue;
    }
    used.add(parameter.name);
    const expected = diffusersShape(parameter.layout, parameter.variable.shape);
    if (!tf.util.arraysEqual(expected, found.tensor.shape)) {
      mismatched.push(`${parameter.name}: expected [${expected.join(', ')}], got [${found.tensor.shape.join(', ')}]`);
      continue;
    }
    assignments.push({ parameter, tensor: found.tensor, name: found.original });
  }
  const unexpected = [...byName.keys()].filter((name) => !used.has(name)).map((name) => byName.get(name)!.original);
  const refused = strict ? unexpected : [];
  if (missing.length > 0 || mismatched.length > 0 || refused.length > 0) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`${missing.length} missing: ${missing.join(', ')}`);
    if (mismatched.length > 0) parts.push(`${mismatched.length} with the wrong shape: ${mismatched.join('; ')}`);
    if (refused.length > 0) parts.push(`${refused.length} not used by the model: ${refused.join(', ')}`);
    throw new WeightsError(`${source}: cannot load weights, ${parts.join('; ')}`, missing, mismatched, refused);
  }
  for (const { parameter, tensor, name } of assignments) {
    tf.tidy(() =>
      parameter.variable.assign(permutedTensor(toFloat32(tensor.data, name), [...tensor.shape], FROM_DIFFUSERS[parameter.layout])),
    );
  }
  return { unexpected };
}

/** Every parameter as a float32 tensor in Diffusers' layout, keyed by Diffusers name (sorted). */
export async function exportWeights(store: ParameterStore): Promise<Record<string, ExportedWeight>> {
  const exported: Record<string, ExportedWeight> = {};
  const parameters = [...store.list()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const parameter of parameters) {
    const perm = TO_DIFFUSERS[parameter.layout];
    const shape = diffusersShape(parameter.layout, parameter.variable.shape);
    if (perm !== null && tf.getBackend() === 'cpu') {
      exported[parameter.name] = {
        dtype: 'F32',
        shape,
        data: permuted((await parameter.variable.data()) as Float32Array, parameter.variable.shape, perm),
      };
      continue;
    }
    const converted = perm === null ? tf.clone(parameter.variable) : tf.transpose(parameter.variable, perm);
    exported[parameter.name] = { dtype: 'F32', shape, data: Float32Array.from((await converted.data()) as Float32Array) };
    converted.dispose();
  }
  return exported;
}
