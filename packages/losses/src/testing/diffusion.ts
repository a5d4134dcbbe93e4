/** Test helper: the fixture's T = 10 diffusion as a plain schedule and as a real DDPMScheduler. */
import { DDPMScheduler } from '@diffusion-ts/schedulers';
import type { DiffusionSchedule } from '../coefficients.js';
import { loadLossesFixture } from './fixtures.js';

/** The `diffusion_T10_linear_fixed_small_epsilon` block of losses.json. */
export const diffusion = loadLossesFixture().diffusion_T10_linear_fixed_small_epsilon;

/** The fixture's float64 betas as a plain structural schedule (exact coefficients). */
export const plainSchedule: DiffusionSchedule = {
  betas: Float64Array.from(diffusion.betas.data),
  config: { numTrainTimesteps: 10, varianceType: 'fixed_small', predictionType: 'epsilon' },
};

/** A schedulers-package DDPMScheduler with the same betas as `trainedBetas` (float32-rounded). */
export function realScheduler(): DDPMScheduler {
  return new DDPMScheduler({
    numTrainTimesteps: 10,
    trainedBetas: diffusion.betas.data,
    varianceType: 'fixed_small',
    predictionType: 'epsilon',
  });
}

/** Both schedules, named for `describe.each`. */
export function schedules(): [string, DiffusionSchedule][] {
  return [
    ['plain float64 betas', plainSchedule],
    ['DDPMScheduler trainedBetas', realScheduler()],
  ];
}
