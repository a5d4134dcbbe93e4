/**
 * The step index the stateful schedulers keep between `step` calls (Diffusers' `step_index`):
 * a run goes through `timesteps` in order; a timestep that does not continue the run starts a new
 * one at its position (the second of two equal entries, as Diffusers' `index_for_timestep`, so a
 * run started mid-schedule on a repeated timestep takes the later one).
 */

/** Where a step at `timestep` falls: its index, and whether it starts a new run. */
export interface StepPosition {
  index: number;
  restart: boolean;
}

/**
 * The position of a step at `timestep`, given the index the previous step expects next (`null`
 * before the first). Throws a `RangeError` naming the timestep when it is not scheduled.
 */
export function stepPosition(timesteps: readonly number[], expected: number | null, timestep: number, context: string): StepPosition {
  if (typeof timestep !== 'number' || !Number.isFinite(timestep)) {
    throw new RangeError(`${context}: timestep must be a finite number from scheduler.timesteps, got ${String(timestep)}`);
  }
  if (expected !== null && timesteps[expected] === timestep) return { index: expected, restart: false };
  const first = timesteps.indexOf(timestep);
  if (first < 0) {
    const shown = timesteps.length > 12 ? `${timesteps.slice(0, 12).join(', ')}, …` : timesteps.join(', ');
    throw new RangeError(`${context}: timestep ${timestep} is not in the schedule [${shown}]`);
  }
  return { index: timesteps[first + 1] === timestep ? first + 1 : first, restart: true };
}
