/**
 * Training checkpoints: one safetensors file holding the weights, the EMA weights and AdamW's
 * moments (float32, exactly as held in memory), with the step counters and the random streams'
 * states as JSON metadata. The file is written atomically (temp file, then rename), so a run
 * killed at any moment leaves the previous checkpoint intact.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadSafetensors, writeFileAtomic, writeSafetensors, type SafetensorsTensor } from '@diffusion-ts/core';

/** The checkpoint file's name inside a run folder. */
export const CHECKPOINT_NAME = 'checkpoint.safetensors';

/** Named groups of variables, each stored under `<group>/<name>`. */
export type VariableGroups = Record<string, { names: readonly string[]; variables: readonly tf.Variable[] }>;

/** Writes `groups` and the JSON `state` to `path` atomically. */
export async function writeCheckpoint(path: string, groups: VariableGroups, state: unknown): Promise<void> {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [group, { names, variables }] of Object.entries(groups)) {
    for (let i = 0; i < variables.length; i++) {
      const data = (await variables[i].data()) as Float32Array;
      tensors[`${group}/${names[i]}`] = { dtype: 'F32', shape: [...variables[i].shape], data: Float32Array.from(data) };
    }
  }
  const bytes = writeSafetensors(tensors, { format: 'diffusion-ts-checkpoint', state: JSON.stringify(state) });
  await writeFileAtomic(path, bytes);
}

/**
 * Reads a checkpoint into `groups` (names and shapes must match) and returns its JSON state;
 * `checkState` sees the state first and may refuse it before any weight is overwritten.
 */
export async function readCheckpoint(path: string, groups: VariableGroups, checkState?: (state: unknown) => void): Promise<unknown> {
  let file;
  try {
    file = await loadSafetensors(path);
  } catch (error) {
    throw new Error(`cannot read checkpoint ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (file.metadata.format !== 'diffusion-ts-checkpoint' || file.metadata.state === undefined) {
    throw new Error(`${path} is not a diffusion-ts training checkpoint`);
  }
  const state = JSON.parse(file.metadata.state) as unknown;
  checkState?.(state);
  const missing: string[] = [];
  for (const [group, { names, variables }] of Object.entries(groups)) {
    names.forEach((name, i) => {
      const key = `${group}/${name}`;
      const tensor = file.tensors[key];
      const variable = variables[i];
      if (tensor === undefined) {
        missing.push(key);
        return;
      }
      if (tensor.shape.join(',') !== variable.shape.join(',')) {
        throw new Error(
          `checkpoint ${path}: ${key} has shape [${tensor.shape.join(', ')}], the model expects [${variable.shape.join(', ')}]`,
        );
      }
      tf.tidy(() => variable.assign(tf.tensor(tensor.data as Float32Array, variable.shape, 'float32')));
    });
  }
  if (missing.length > 0) {
    throw new Error(
      `checkpoint ${path} lacks ${missing.length} tensors (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}); was it written for another model?`,
    );
  }
  return state;
}
