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

/** Weights that are missing or have the wrong shape: core's `WeightsError` (`missing` and `mismatched` list the names). */
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

/** Our tensor from a Diffusers-layout one (OIHW -> HWIO, [out, in] -> [in, out]). */
function fromDiffusersLayout(layout: ParameterLayout, tensor: tf.Tensor): tf.Tensor {
  switch (layout) {
    case 'conv':
      return tf.transpose(tensor, [2, 3, 1, 0]);
    case 'linear':
      return tf.transpose(tensor, [1, 0]);
    case 'plain':
      return tf.clone(tensor);
  }
}

/** A Diffusers-layout tensor from ours. */
function toDiffusersLayout(layout: ParameterLayout, tensor: tf.Tensor): tf.Tensor {
  switch (layout) {
    case 'conv':
      return tf.transpose(tensor, [3, 2, 0, 1]);
    case 'linear':
      return tf.transpose(tensor, [1, 0]);
    case 'plain':
      return tf.clone(tensor);
  }
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

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

/** What `importWeights` found. */
export interface ImportReport {
  /** Names in the file that the model does not use. */
  unexpected: string[];
}

/**
 * Assigns Diffusers-named tensors to the store's variables, converting the layout. Throws a
 * `WeightsError` listing every missing and mis-shaped name before assigning anything; names the
 * model does not use are returned as `unexpected`.
 */
export function importWeights(store: ParameterStore, tensors: Record<string, WeightTensor>, source = 'weights'): ImportReport {
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
    if (!sameShape(expected, found.tensor.shape)) {
      mismatched.push(`${parameter.name}: expected [${expected.join(', ')}], got [${found.tensor.shape.join(', ')}]`);
      continue;
    }
    assignments.push({ parameter, tensor: found.tensor, name: found.original });
  }
  if (missing.length > 0 || mismatched.length > 0) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`${missing.length} missing: ${missing.join(', ')}`);
    if (mismatched.length > 0) parts.push(`${mismatched.length} with the wrong shape: ${mismatched.join('; ')}`);
    throw new WeightsError(`${source}: cannot load weights, ${parts.join('; ')}`, missing, mismatched);
  }
  for (const { parameter, tensor, name } of assignments) {
    const values = toFloat32(tensor.data, name);
    tf.tidy(() => {
      const stored = tf.tensor(values, tensor.shape, 'float32');
      parameter.variable.assign(fromDiffusersLayout(parameter.layout, stored));
    });
  }
  const unexpected = [...byName.keys()].filter((name) => !used.has(name)).map((name) => byName.get(name)!.original);
  return { unexpected };
}

/** Every parameter as a float32 tensor in Diffusers' layout, keyed by Diffusers name (sorted). */
export async function exportWeights(store: ParameterStore): Promise<Record<string, ExportedWeight>> {
  const exported: Record<string, ExportedWeight> = {};
  const parameters = [...store.list()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const parameter of parameters) {
    const converted = tf.tidy(() => toDiffusersLayout(parameter.layout, parameter.variable));
    const data = (await converted.data()) as Float32Array;
    exported[parameter.name] = { dtype: 'F32', shape: [...converted.shape], data: Float32Array.from(data) };
    converted.dispose();
  }
  return exported;
}
