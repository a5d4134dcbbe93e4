/** Shared helpers of the CLI commands: numeric options, usage errors. */

/** An error in the command line; the CLI prints its message and the command's usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Parses an integer option, with bounds. */
export function integerOption(value: string | undefined, name: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got '${value}'`);
  }
  return number;
}

/** Parses a number option, with a lower bound. */
export function numberOption(value: string | undefined, name: string, fallback: number, min = -Infinity): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < min) throw new UsageError(`--${name} must be a number >= ${min}, got '${value}'`);
  return number;
}

/** A command of the CLI. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[]): Promise<void>;
}
