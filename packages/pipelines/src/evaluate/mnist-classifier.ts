import * as tf from '@tensorflow/tfjs-core';
import {
  Generator,
  loadSafetensors,
  readConfigFile,
  saveSafetensors,
  writeConfigFile,
  type SafetensorsTensor,
} from '@diffusion-ts/core';

/** Layer widths of the classifier: input pixels, hidden layers, classes. */
export interface MnistClassifierConfig {
  inputSize: number;
  hiddenSizes: number[];
  numClasses: number;
}

const DEFAULT_CONFIG: MnistClassifierConfig = { inputSize: 32 * 32, hiddenSizes: [256, 128], numClasses: 10 };

interface Layer {
  kernel: tf.Variable;
  bias: tf.Variable;
}

/**
 * A small multilayer perceptron for 32x32 MNIST digits (NHWC, values in [-1, 1]), used to judge
 * generated samples: its penultimate activations are the features for the Frechet distance and
 * its predictions give the class spread.
 */
export class MnistClassifier {
  readonly config: MnistClassifierConfig;
  private readonly layers: Layer[];

  private constructor(config: MnistClassifierConfig, layers: Layer[]) {
    this.config = config;
    this.layers = layers;
  }

  /** A randomly initialised classifier (Glorot-uniform kernels, zero biases), seeded. */
  static create(seed = 0, config: MnistClassifierConfig = DEFAULT_CONFIG): MnistClassifier {
    const generator = new Generator(seed);
    const sizes = [config.inputSize, ...config.hiddenSizes, config.numClasses];
    const layers: Layer[] = [];
    for (let i = 0; i + 1 < sizes.length; i++) {
      const [fanIn, fanOut] = [sizes[i], sizes[i + 1]];
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      const values = generator.uniform(fanIn * fanOut).map((u) => (u * 2 - 1) * limit);
      layers.push({
        kernel: tf.variable(tf.tensor2d(values, [fanIn, fanOut]), true, `classifier.${i}.kernel`),
        bias: tf.variable(tf.zeros([fanOut]), true, `classifier.${i}.bias`),
      });
    }
    return new MnistClassifier(config, layers);
  }

  /** Loads a classifier saved by `save` (`config.json` + `classifier.safetensors`). */
  static async load(folder: string): Promise<MnistClassifier> {
    const json = await readConfigFile(`${folder}/config.json`);
    const config: MnistClassifierConfig = {
      inputSize: Number(json.input_size),
      hiddenSizes: (json.hidden_sizes as number[]).map(Number),
      numClasses: Number(json.num_classes),
    };
    const file = await loadSafetensors(`${folder}/classifier.safetensors`);
    const sizes = [config.inputSize, ...config.hiddenSizes, config.numClasses];
    const layers: Layer[] = [];
    for (let i = 0; i + 1 < sizes.length; i++) {
      const kernel = file.tensors[`layers.${i}.kernel`];
      const bias = file.tensors[`layers.${i}.bias`];
      if (!kernel || !bias) throw new Error(`MnistClassifier.load: ${folder} lacks the weights of layer ${i}`);
      const expected = [sizes[i], sizes[i + 1]];
      if (kernel.shape.join() !== expected.join()) {
        throw new Error(`MnistClassifier.load: layers.${i}.kernel has shape [${kernel.shape.join(',')}], expected [${expected.join(',')}]`);
      }
      layers.push({
        kernel: tf.variable(tf.tensor2d(kernel.data as Float32Array, expected as [number, number]), true),
        bias: tf.variable(tf.tensor1d(bias.data as Float32Array), true),
      });
    }
    return new MnistClassifier(config, layers);
  }

  /** Writes `config.json` and `classifier.safetensors` to `folder` (each atomically). */
  async save(folder: string, extra: Record<string, number | string> = {}): Promise<void> {
    const tensors: Record<string, SafetensorsTensor> = {};
    for (const [i, layer] of this.layers.entries()) {
      tensors[`layers.${i}.kernel`] = { dtype: 'F32', shape: layer.kernel.shape, data: layer.kernel.dataSync() };
      tensors[`layers.${i}.bias`] = { dtype: 'F32', shape: layer.bias.shape, data: layer.bias.dataSync() };
    }
    await saveSafetensors(`${folder}/classifier.safetensors`, tensors, { format: 'diffusion-ts-mnist-classifier' });
    await writeConfigFile(`${folder}/config.json`, {
      _class_name: 'MnistClassifier',
      input_size: this.config.inputSize,
      hidden_sizes: this.config.hiddenSizes,
      num_classes: this.config.numClasses,
      ...extra,
    });
  }

  /** The trainable variables. */
  trainableVariables(): tf.Variable[] {
    return this.layers.flatMap((layer) => [layer.kernel, layer.bias]);
  }

  private flatten(images: tf.Tensor4D): tf.Tensor2D {
    const [batch, height, width, channels] = images.shape;
    if (height * width * channels !== this.config.inputSize) {
      throw new Error(`MnistClassifier: images have ${height}x${width}x${channels} values, expected ${this.config.inputSize}`);
    }
    return tf.reshape(images, [batch, this.config.inputSize]);
  }

  /** Penultimate-layer activations `[N, hiddenSizes.at(-1)]` of NHWC images in [-1, 1]. */
  features(images: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      let x: tf.Tensor2D = this.flatten(images);
      for (const layer of this.layers.slice(0, -1)) x = tf.relu(tf.add(tf.matMul(x, layer.kernel), layer.bias)) as tf.Tensor2D;
      return x;
    });
  }

  /** Class logits `[N, numClasses]`. */
  logits(images: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const last = this.layers[this.layers.length - 1];
      return tf.add(tf.matMul(this.features(images), last.kernel), last.bias);
    });
  }

  /** Predicted class per image. */
  async predict(images: tf.Tensor4D): Promise<Int32Array> {
    const classes = tf.tidy(() => tf.argMax(this.logits(images), 1));
    const values = Int32Array.from(await classes.data());
    classes.dispose();
    return values;
  }

  /** Frees the variables. */
  dispose(): void {
    tf.dispose(this.trainableVariables());
  }
}

/** Options for `trainClassifier`. */
export interface TrainClassifierOptions {
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  onEpoch?: (epoch: number, loss: number) => void;
}

/**
 * Trains the classifier with Adam on softmax cross-entropy. `images` is NHWC [N,32,32,1] in
 * [-1, 1], `labels` the digit per image. Returns the mean loss of the last epoch.
 */
export async function trainClassifier(
  classifier: MnistClassifier,
  images: tf.Tensor4D,
  labels: Int32Array,
  options: TrainClassifierOptions = {},
): Promise<number> {
  const { epochs = 3, batchSize = 128, learningRate = 1e-3, seed = 0, onEpoch } = options;
  const count = images.shape[0];
  if (labels.length !== count) throw new Error(`trainClassifier: ${count} images but ${labels.length} labels`);
  const optimizer = tf.train.adam(learningRate);
  const generator = new Generator(seed);
  const variables = classifier.trainableVariables();
  let lastLoss = Number.NaN;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = generator.uniform(count);
    const indices = Array.from({ length: count }, (_, i) => i).sort((a, b) => order[a] - order[b]);
    let total = 0;
    let batches = 0;
    for (let start = 0; start + batchSize <= count; start += batchSize) {
      const batchIndices = tf.tensor1d(indices.slice(start, start + batchSize), 'int32');
      const batchLabels = tf.tensor1d(Array.from(indices.slice(start, start + batchSize), (i) => labels[i]), 'int32');
      const loss = optimizer.minimize(
        () =>
          tf.tidy(() => {
            const x = tf.gather(images, batchIndices);
            const oneHot = tf.oneHot(batchLabels, classifier.config.numClasses);
            return tf.losses.softmaxCrossEntropy(oneHot, classifier.logits(x as tf.Tensor4D)) as tf.Scalar;
          }),
        true,
        variables,
      );
      total += (await loss!.data())[0];
      batches += 1;
      tf.dispose([loss!, batchIndices, batchLabels]);
    }
    lastLoss = total / Math.max(batches, 1);
    onEpoch?.(epoch, lastLoss);
  }
  optimizer.dispose();
  return lastLoss;
}

/** Fraction of `images` whose predicted class equals the label. */
export async function classifierAccuracy(
  classifier: MnistClassifier,
  images: tf.Tensor4D,
  labels: Int32Array,
  batchSize = 1000,
): Promise<number> {
  let correct = 0;
  for (let start = 0; start < images.shape[0]; start += batchSize) {
    const size = Math.min(batchSize, images.shape[0] - start);
    const batch = tf.slice(images, [start, 0, 0, 0], [size, -1, -1, -1]);
    const predicted = await classifier.predict(batch);
    batch.dispose();
    for (let i = 0; i < size; i++) if (predicted[i] === labels[start + i]) correct += 1;
  }
  return correct / images.shape[0];
}
