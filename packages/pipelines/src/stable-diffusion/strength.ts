/** img2img and inpainting's `strength`: how far into the schedule the given image is noised. */
import type { Scheduler } from '@diffusion-ts/schedulers';

/** Throws unless `strength` lies in [0, 1] (Diffusers' check). */
export function checkStrength(strength: number, context: string): void {
  if (!(typeof strength === 'number' && strength >= 0 && strength <= 1))
    throw new RangeError(`${context}: strength must lie in [0, 1], got ${String(strength)}`);
}

/**
 * The timesteps `strength` keeps (Diffusers' `get_timesteps`): `int(steps * strength)` steps from
 * the end of the schedule, `order` timesteps each. Throws when none is left, before anything runs.
 */
export function timestepsForStrength(scheduler: Scheduler, numInferenceSteps: number, strength: number, context: string): number[] {
  const kept = Math.min(Math.floor(numInferenceSteps * strength), numInferenceSteps);
  const start = Math.max(numInferenceSteps - kept, 0);
  const timesteps = scheduler.timesteps.slice(start * scheduler.order);
  if (timesteps.length === 0 || kept < 1) {
    throw new RangeError(
      `${context}: strength ${strength} of ${numInferenceSteps} steps leaves no step to run; raise strength or numInferenceSteps`,
    );
  }
  return timesteps;
}
