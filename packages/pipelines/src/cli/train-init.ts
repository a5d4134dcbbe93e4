/** `diffusion-ts train --init`: the UNet a run starts from, taken from a saved model and checked against the run. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readConfigFile, type ConfigJson } from '@diffusion-ts/core';
import { UNet2DModel } from '@diffusion-ts/models';
import { UsageError } from './arguments.js';

/** What the run trains: the UNet config its data asks for and the noise schedule of its loss. */
export interface InitExpectations {
  /** The config `train` would build for the data (size, channels, class embeddings). */
  config: ConfigJson;
  betaSchedule: string;
  predictionType: string;
}

/** The UNet config keys the data fixes: a saved model must agree on each. */
const DATA_KEYS = ['sample_size', 'in_channels', 'out_channels', 'num_class_embeds'] as const;

/**
 * Loads the UNet of `folder` (a pipeline folder with `unet/`, or a UNet folder) to start a run from,
 * after checking its config against the data and, where the folder has `scheduler/`, its noise
 * schedule and prediction type against the run's: a mismatch is a `UsageError` naming the key.
 */
export async function loadInitialUNet(folder: string, expected: InitExpectations): Promise<UNet2DModel> {
  const pipelineFolder = existsSync(join(folder, 'unet', 'config.json'));
  if (!pipelineFolder && !existsSync(join(folder, 'config.json'))) {
    throw new UsageError(`--init: ${folder} has neither unet/config.json nor config.json`);
  }
  const unetFolder = pipelineFolder ? join(folder, 'unet') : folder;
  const config = await readConfigFile(join(unetFolder, 'config.json'));
  for (const key of DATA_KEYS) {
    const saved = config[key] ?? null;
    const wanted = expected.config[key] ?? null;
    if (saved !== wanted) {
      throw new UsageError(
        `--init: ${unetFolder}/config.json has ${key} ${JSON.stringify(saved)}, the data and options ask for ${JSON.stringify(wanted)}`,
      );
    }
  }
  const schedulerConfig = join(folder, 'scheduler', 'scheduler_config.json');
  if (pipelineFolder && existsSync(schedulerConfig)) {
    const scheduler = await readConfigFile(schedulerConfig);
    const checks: [string, string][] = [
      ['beta_schedule', expected.betaSchedule],
      ['prediction_type', expected.predictionType],
    ];
    for (const [key, wanted] of checks) {
      const saved = scheduler[key];
      if (saved !== undefined && saved !== wanted) {
        throw new UsageError(
          `--init: ${schedulerConfig} has ${key} ${JSON.stringify(saved)}, this run trains with ${JSON.stringify(wanted)}`,
        );
      }
    }
  }
  return UNet2DModel.fromPretrained(unetFolder);
}
