import { WeightsError, type WeightTensor } from '../weights.js';
import type { CLIPTextOptions } from './clip-text-config.js';

/** Buffers older transformers versions saved with the weights and ignore when loading. */
const IGNORED_BUFFERS = new Set(['text_model.embeddings.position_ids']);

/** The tensors without the buffers transformers ignores (`position_ids`). */
export function withoutIgnoredBuffers(tensors: Record<string, WeightTensor>): Record<string, WeightTensor> {
  return Object.fromEntries(Object.entries(tensors).filter(([name]) => !IGNORED_BUFFERS.has(name)));
}

const LAYER_NAME = /^text_model\.encoder\.layers\.(\d+)\./;

/**
 * Compares the sizes the weights imply with the config, so that a config that does not belong
 * to the weights is named by its keys (`hidden_size`, `num_hidden_layers`, ...) rather than by a
 * list of tensor shapes. Throws a `WeightsError`; tensors it cannot see are left to the name check.
 */
export function checkCLIPWeightsAgainstConfig(
  tensors: Record<string, WeightTensor>,
  options: CLIPTextOptions,
  withProjection: boolean,
  source: string,
): void {
  const problems: string[] = [];
  const compare = (key: string, configured: number, name: string, axis: number, what: string) => {
    const tensor = tensors[name];
    if (tensor === undefined || tensor.shape.length <= axis) return;
    const found = tensor.shape[axis];
    if (found !== configured) {
      problems.push(`config ${key} = ${configured} but '${name}' has shape [${tensor.shape.join(', ')}] (${what} ${found})`);
    }
  };
  compare('vocab_size', options.vocabSize, 'text_model.embeddings.token_embedding.weight', 0, 'vocab_size');
  compare('hidden_size', options.hiddenSize, 'text_model.embeddings.token_embedding.weight', 1, 'hidden_size');
  compare(
    'max_position_embeddings',
    options.maxPositionEmbeddings,
    'text_model.embeddings.position_embedding.weight',
    0,
    'max_position_embeddings',
  );
  compare('intermediate_size', options.intermediateSize, 'text_model.encoder.layers.0.mlp.fc1.weight', 0, 'intermediate_size');
  if (withProjection) compare('projection_dim', options.projectionDim, 'text_projection.weight', 0, 'projection_dim');
  let layers = 0;
  for (const name of Object.keys(tensors)) {
    const match = LAYER_NAME.exec(name);
    if (match) layers = Math.max(layers, Number(match[1]) + 1);
  }
  if (layers !== options.numHiddenLayers && (layers > 0 || Object.keys(tensors).some((name) => name.startsWith('text_model.')))) {
    problems.push(`config num_hidden_layers = ${options.numHiddenLayers} but the weights hold ${layers} encoder layers`);
  }
  if (problems.length > 0) {
    throw new WeightsError(`${source}: the weights do not match config.json: ${problems.join('; ')}`, [], problems);
  }
}
