/** Checks of `setTimesteps`' optional arguments (custom timesteps or sigmas, μ). */
import type { SetTimestepsOptions } from './scheduler.js';

const NAMES = ['timesteps', 'sigmas', 'mu'] as const;

/** Throws if `options` is not an object or gives an argument the scheduler does not accept. */
export function refuseCustomSchedule(
  options: SetTimestepsOptions,
  accepted: readonly (keyof SetTimestepsOptions)[],
  context: string,
): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${context}.setTimesteps: options must be an object ({ timesteps, sigmas, mu }), got ${String(options)}`);
  }
  for (const name of NAMES) {
    if (options[name] !== undefined && !accepted.includes(name)) {
      const alternatives = accepted.length === 0 ? 'it takes only numInferenceSteps' : `it accepts ${accepted.join(', ')}`;
      throw new RangeError(`${context}.setTimesteps: custom ${name} are not supported by ${context} (${alternatives})`);
    }
  }
}

/**
 * A custom schedule as a checked array: at least `minimum` finite values, strictly descending
 * (`descending: 'strict'`) or non-increasing (`'weak'`, for σ lists that may end in a repeat).
 */
export function readCustomList(
  values: readonly number[],
  name: 'timesteps' | 'sigmas',
  context: string,
  minimum = 1,
  descending: 'strict' | 'weak' = 'strict',
): number[] {
  const where = `${context}.setTimesteps: ${name}`;
  if (!Array.isArray(values) && !ArrayBuffer.isView(values)) throw new TypeError(`${where} must be an array of numbers`);
  const list = Array.from(values as ArrayLike<number>);
  if (list.length < minimum)
    throw new RangeError(`${where} needs at least ${minimum} value${minimum === 1 ? '' : 's'}, got ${list.length}`);
  list.forEach((value, i) => {
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new RangeError(`${where}[${i}] must be a finite number, got ${String(value)}`);
    const previous = list[i - 1];
    if (i > 0 && (descending === 'strict' ? value >= previous : value > previous)) {
      throw new RangeError(`${where} must be in descending order (${name}[${i - 1}] = ${previous}, ${name}[${i}] = ${value})`);
    }
  });
  return list;
}

/**
 * The step count of a `setTimesteps` call: `numInferenceSteps`, or the length of the custom
 * list when that is given instead (giving both, or neither, is an error, as in Diffusers).
 */
export function stepCountOf(numInferenceSteps: number | undefined, customLength: number | undefined, context: string): number {
  if (numInferenceSteps !== undefined && customLength !== undefined) {
    throw new RangeError(`${context}.setTimesteps: pass either numInferenceSteps or custom timesteps / sigmas, not both`);
  }
  if (numInferenceSteps === undefined && customLength === undefined) {
    throw new RangeError(`${context}.setTimesteps: numInferenceSteps must be given (or custom timesteps / sigmas)`);
  }
  return numInferenceSteps ?? customLength!;
}
