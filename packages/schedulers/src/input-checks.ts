/**
 * The input checks every scheduler and loss shares (and `@diffusion-ts/losses` imports): live
 * float32 tensors of matching shapes, finite values, and timesteps inside the schedule. Each
 * error names the argument and the call it came from.
 */
import * as tf from '@tensorflow/tfjs-core';
import { syncReadbackAllowed } from '@diffusion-ts/core';

/** Throws unless `value` is a tf.Tensor that has not been disposed. */
export function assertTensor(value: unknown, name: string, context: string): asserts value is tf.Tensor {
  if (!(value instanceof tf.Tensor)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    throw new TypeError(`${context}: ${name} must be a tf.Tensor, got ${got}`);
  }
  if (value.isDisposed) throw new TypeError(`${context}: ${name} has been disposed`);
}

/** Throws unless both are live float32 tensors of the same shape. */
export function assertSameShape(a: tf.Tensor, aName: string, b: tf.Tensor, bName: string, context: string): void {
  for (const [tensor, name] of [
    [a, aName],
    [b, bName],
  ] as const) {
    assertTensor(tensor, name, context);
    if (tensor.dtype !== 'float32') throw new TypeError(`${context}: ${name} must be a float32 tensor, got ${tensor.dtype}`);
  }
  if (!tf.util.arraysEqual(a.shape, b.shape)) {
    throw new RangeError(`${context}: ${aName} shape [${a.shape.join(', ')}] does not match ${bName} shape [${b.shape.join(', ')}]`);
  }
}

/**
 * Throws if any tensor contains NaN or ±Infinity, naming it. One sum per tensor and a single
 * read-back; only a non-finite sum (NaN, Infinity, or an overflow) is looked at further. Skipped on
 * webgpu, where a synchronous read-back stalls the GPU (see core's `syncReadbackAllowed`).
 */
export function assertFinite(tensors: Readonly<Record<string, tf.Tensor | undefined>>, context: string): void {
  const names = Object.keys(tensors).filter((name) => tensors[name] !== undefined);
  if (names.length === 0) return;
  for (const name of names) assertTensor(tensors[name], name, context);
  // The values check needs a read-back, which webgpu cannot afford per step.
  if (!syncReadbackAllowed()) return;
  const sums = tf.tidy(() => tf.stack(names.map((name) => tf.sum(tf.cast(tensors[name]!, 'float32')))).dataSync());
  names.forEach((name, i) => {
    if (!Number.isFinite(sums[i])) {
      const hasNaN = tf.tidy(() => tf.any(tf.isNaN(tensors[name]!)).dataSync()[0] !== 0);
      if (hasNaN) throw new RangeError(`${context}: ${name} contains NaN`);
      const hasInf = tf.tidy(() => tf.any(tf.isInf(tensors[name]!)).dataSync()[0] !== 0);
      if (hasInf) throw new RangeError(`${context}: ${name} contains Infinity`);
    }
  });
}

/** Throws unless `value` is a finite number. */
export function assertFiniteNumber(value: number, name: string, context: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RangeError(`${context}: ${name} must be a finite number, got ${String(value)}`);
  }
}

/** Throws unless `timestep` is an integer training timestep. */
export function assertTrainTimestep(timestep: number, numTrainTimesteps: number, context: string): void {
  if (!Number.isInteger(timestep) || timestep < 0 || timestep >= numTrainTimesteps) {
    throw new RangeError(`${context}: timestep ${String(timestep)} is not an integer in [0, ${numTrainTimesteps})`);
  }
}

/** Throws unless `timestep` is one of the scheduled `timesteps`. */
export function assertScheduledTimestep(timestep: number, timesteps: readonly number[], context: string): void {
  if (!timesteps.includes(timestep)) {
    const shown = timesteps.length > 12 ? `${timesteps.slice(0, 12).join(', ')}, …` : timesteps.join(', ');
    throw new RangeError(`${context}: timestep ${String(timestep)} is not in the schedule [${shown}]`);
  }
}
