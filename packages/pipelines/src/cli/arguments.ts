/**
 * Shared helpers of the CLI commands: parsing with `-h, --help`, the options several commands
 * share, numeric options, the model folder and backend, usage errors.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { resolveSchedulerName, type SchedulerPreset } from '@diffusion-ts/schedulers';
import { initFastBackend, type CliBackend, type FastBackendReport } from '../backend.js';
import { loadImageFolder } from '../data/image-folder.js';
import { loadMnist, type ImageDataset, type MnistSplit } from '../data/mnist.js';
import { findShippedModel } from '../model-location.js';
import { loadUNet2DPipeline, type UNet2DPipeline } from '../pipelines/unet-pipeline.js';

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

/** Parses an option that names one of `choices` (default `fallback`), refusing any other name. */
export function choiceOption<T extends string>(value: string | undefined, name: string, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  const found = choices.find((choice) => choice === value);
  if (found === undefined) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${value}'`);
  return found;
}

/** The `--scheduler` value: a short name or a class name the schedulers' registry knows. */
export function schedulerOption(value: string): SchedulerPreset {
  try {
    return resolveSchedulerName(value);
  } catch (error) {
    throw new UsageError(`--scheduler: ${(error as Error).message}`);
  }
}

/** Parses a number option, with a lower bound. */
export function numberOption(value: string | undefined, name: string, fallback: number, min = -Infinity): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < min)
    throw new UsageError(`--${name} must be a number >= ${min}, got '${value}'`);
  return number;
}

/** A command of the CLI. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[]): Promise<void>;
}

/** `parseArgs` option descriptors by long name. */
type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** `-h, --help`, which every command has. */
export const HELP_OPTION = { help: { type: 'boolean', short: 'h', default: false } } as const;

/** `--backend <name>`: wasm (default), cpu, auto, webgpu, cuda. */
export const BACKEND_OPTION = { backend: { type: 'string', default: 'wasm' } } as const;

/** `--backend` and `--threads <n>` (the native kernels' threads, or threaded wasm's without them). */
export const BACKEND_AND_THREADS_OPTIONS = { ...BACKEND_OPTION, threads: { type: 'string' } } as const;

/** `--seed <n>`: the seed of data order, timesteps and noise (read with `seedOption`). */
export const SEED_OPTION = { seed: { type: 'string' } } as const;

/** `--batch-size <n>`: images per batch or model call. */
export const BATCH_SIZE_OPTION = { 'batch-size': { type: 'string' } } as const;

/** `--dataset <mnist|folder>`: MNIST (default) or a folder of PNG / JPEG images (read with `loadDatasetOption`). */
export const DATASET_OPTION = { dataset: { type: 'string', default: 'mnist' } } as const;

/** The `--seed` value: an integer >= 0 (default 0). */
export function seedOption(value: string | undefined): number {
  return integerOption(value, 'seed', 0, 0);
}

/** Loads the `--dataset`: MNIST's `split`, or the first `limit` images of a folder. */
export function loadDatasetOption(
  dataset: string,
  split: MnistSplit,
  options: { limit?: number; channels?: 1 | 3 | 4 } = {},
): Promise<ImageDataset> {
  return dataset === 'mnist' ? loadMnist(split, { limit: options.limit }) : loadImageFolder(dataset, options);
}

/** The `parseArgs` config of a command that takes positional arguments. */
type CommandConfig<T extends OptionsConfig> = { args: string[]; allowPositionals: true; options: T & typeof HELP_OPTION };

/** What `parseCommandArgs` returns: the option values and the positional arguments. */
export type CommandArgs<T extends OptionsConfig> = ReturnType<typeof parseArgs<CommandConfig<T>>>;

/**
 * Parses a command's arguments (positionals allowed) with its `options` plus `-h, --help`.
 * On --help it prints `usage` and returns `undefined`: the command has nothing more to do.
 */
export function parseCommandArgs<T extends OptionsConfig>(argv: string[], usage: string, options: T): CommandArgs<T> | undefined {
  const config: CommandConfig<T> = {
    args: joinNegativeValues(argv, options),
    allowPositionals: true,
    options: { ...options, ...HELP_OPTION },
  };
  const parsed = parseArgs(config);
  if ((parsed.values as { help?: boolean }).help) {
    console.log(usage);
    return undefined;
  }
  return parsed;
}

/**
 * `--steps -1` as `--steps=-1`: node's parseArgs takes a value starting with a dash for an
 * option ("argument is ambiguous"), so a negative number after a string option is joined to it
 * and reaches the option's own check, which names the accepted range.
 */
function joinNegativeValues(argv: readonly string[], options: OptionsConfig): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = /^--([^=]+)$/.exec(argv[i])?.[1];
    const next = argv[i + 1];
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d|Infinity)/.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else {
      out.push(argv[i]);
    }
  }
  return out;
}

/** The model folder: the first positional argument, else the shipped models/mnist-ddpm. */
export function modelFolder(positionals: readonly string[]): string {
  const folder = positionals[0] ?? findShippedModel();
  if (folder === undefined) throw new UsageError('no model folder given and models/mnist-ddpm was not found');
  return folder;
}

/** Starts the backend named by `--backend`, with `--threads` (1 to 8) where the command has it. */
export function initCommandBackend(values: { backend?: string; threads?: string }): Promise<FastBackendReport> {
  return initFastBackend(
    values.backend as CliBackend,
    values.threads === undefined ? undefined : integerOption(values.threads, 'threads', 1, 1, 8),
  );
}

/** Starts the backend, then loads the UNet2DModel pipeline folder (unconditional or class-conditional) with the named scheduler in place of its own. */
export async function loadCommandPipeline(
  folder: string,
  values: { backend?: string; threads?: string },
  scheduler: string,
): Promise<{ pipeline: UNet2DPipeline; backend: FastBackendReport['backend'] }> {
  const { backend } = await initCommandBackend(values);
  return { pipeline: await loadUNet2DPipeline(folder, { scheduler }), backend };
}
