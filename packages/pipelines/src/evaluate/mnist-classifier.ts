import * as tf from '@tensorflow/tfjs-core';
import {
  ConfigError,
  Generator,
  loadSafetensors,
  readConfigFile,
  saveSafetensors,
  writeConfigFile,
  type SafetensorsTensor,
} from '@diffusion-ts/core';

/**
 * Shape of the classifier: a stack of 3x3 convolutions (ReLU), global average pooling (the
 * features) and one class layer, as Inception's pool3 features are for FID.
 */
export interface MnistClassifierConfig {
  /** Side of the square single-channel input images (32 for MNIST padded as the DDPM models see it). */
  imageSize: number;
  /** Output channels of each 3x3 convolution; the last one is the feature width. */
  channels: number[];
  /** Stride of each convolution (1 or 2; 'same' padding). */
  strides: number[];
  numClasses: number;
}

/** The shipped evaluator's shape: 32x32 -> 16x16 -> 8x8 through five convolutions, 128 pooled features. */
export const MNIST_CLASSIFIER_CONFIG: MnistClassifierConfig = {
  imageSize: 32,
  channels: [32, 32, 64, 64, 128],
  strides: [1, 2, 1, 2, 1],
  numClasses: 10,
};

interface Layer {
  kernel: tf.Variable;
  bias: tf.Variable;
}

/** The kernel shapes of a config, in order: each convolution (HWIO), then the class layer. */
function layerShapes(config: MnistClassifierConfig): number[][] {
  if (config.channels.length === 0 || config.channels.length !== config.strides.length) {
    throw new ConfigError('MnistClassifier: channels and strides must be non-empty and of equal length', 'channels');
  }
  let inChannels = 1;
  const shapes: number[][] = [];
  config.channels.forEach((channels, i) => {
    const stride = config.strides[i];
    if (stride !== 1 && stride !== 2) throw new ConfigError(`MnistClassifier: stride ${stride} must be 1 or 2`, 'strides');
    shapes.push([3, 3, inChannels, channels]);
    inChannels = channels;
  });
  shapes.push([inChannels, config.numClasses]);
  return shapes;
}

/**
 * A small convolutional classifier for 32x32 MNIST digits (NHWC, one channel, values in [-1, 1]),
 * used to judge generated samples: its penultimate activations (the last convolution's channels,
 * averaged over the image) are the features of the Frechet distance, and its softmax gives the
 * predicted class and the confidence. Pooled convolution features see stroke texture, speckle and
 * blur anywhere in the image, which a pixel MLP or a dense class-like layer does not.
 */
export class MnistClassifier {
  readonly config: MnistClassifierConfig;
  private readonly layers: Layer[];

  private constructor(config: MnistClassifierConfig, layers: Layer[]) {
    this.config = config;
    this.layers = layers;
  }

  /** A randomly initialised classifier (He-uniform kernels, zero biases), seeded. */
  static create(seed = 0, config: MnistClassifierConfig = MNIST_CLASSIFIER_CONFIG): MnistClassifier {
    const generator = new Generator(seed);
    const layers = layerShapes(config).map((shape, i) => {
      const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const limit = Math.sqrt(6 / fanIn);
      const values = generator.uniform(fanIn * shape[shape.length - 1]).map((u) => (u * 2 - 1) * limit);
      return {
        kernel: tf.variable(tf.tensor(values, shape), true, `classifier.${i}.kernel`),
        bias: tf.variable(tf.zeros([shape[shape.length - 1]]), true, `classifier.${i}.bias`),
      };
    });
    return new MnistClassifier(config, layers);
  }

  /** Loads a classifier saved by `save` (`config.json` + `classifier.safetensors`). */
  static async load(folder: string): Promise<MnistClassifier> {
    const json = await readConfigFile(`${folder}/config.json`);
    if (json._class_name !== 'MnistClassifier' || !Array.isArray(json.channels) || !Array.isArray(json.strides)) {
      throw new ConfigError(`MnistClassifier.load: ${folder}/config.json is not a convolutional MnistClassifier config`, '_class_name');
    }
    const config: MnistClassifierConfig = {
      imageSize: Number(json.image_size),
      channels: (json.channels as number[]).map(Number),
      strides: (json.strides as number[]).map(Number),
      numClasses: Number(json.num_classes),
    };
    const file = await loadSafetensors(`${folder}/classifier.safetensors`);
    const layers = layerShapes(config).map((shape, i) => {
      const kernel = file.tensors[`layers.${i}.kernel`];
      const bias = file.tensors[`layers.${i}.bias`];
      if (!kernel || !bias) throw new ConfigError(`MnistClassifier.load: ${folder} lacks the weights of layer ${i}`);
      if (kernel.shape.join() !== shape.join()) {
        throw new ConfigError(
          `MnistClassifier.load: layers.${i}.kernel has shape [${kernel.shape.join(',')}], expected [${shape.join(',')}]`,
        );
      }
      return {
        kernel: tf.variable(tf.tensor(kernel.data as Float32Array, shape), true),
        bias: tf.variable(tf.tensor1d(bias.data as Float32Array), true),
      };
    });
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
      image_size: this.config.imageSize,
      channels: this.config.channels,
      strides: this.config.strides,
      num_classes: this.config.numClasses,
      ...extra,
    });
  }

  /** The trainable variables. */
  trainableVariables(): tf.Variable[] {
    return this.layers.flatMap((layer) => [layer.kernel, layer.bias]);
  }

  /** Width of the features: the last convolution's channels. */
  get featureSize(): number {
    return this.config.channels[this.config.channels.length - 1];
  }

  /** Penultimate-layer activations `[N, featureSize]` (pooled last convolution) of NHWC images in [-1, 1]. */
  features(images: tf.Tensor4D): tf.Tensor2D {
    const { imageSize } = this.config;
    const [, height, width, channels] = images.shape;
    if (height !== imageSize || width !== imageSize || channels !== 1) {
      throw new RangeError(`MnistClassifier: images are ${height}x${width}x${channels}, expected ${imageSize}x${imageSize}x1`);
    }
    return tf.tidy(() => {
      let x: tf.Tensor4D = images;
      const convolutions = this.layers.slice(0, this.config.channels.length);
      convolutions.forEach(({ kernel, bias }, i) => {
        const stride = this.config.strides[i];
        x = tf.relu(tf.add(tf.conv2d(x, kernel as tf.Tensor4D, stride, 'same'), bias)) as tf.Tensor4D;
      });
      return tf.mean(x, [1, 2]) as tf.Tensor2D;
    });
  }

  /** Class logits `[N, numClasses]`. */
  logits(images: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const last = this.layers[this.layers.length - 1];
      return tf.add(tf.matMul(this.features(images), last.kernel as tf.Tensor2D), last.bias);
    });
  }

  /** Predicted class and its softmax probability (the confidence) per image. */
  async classify(images: tf.Tensor4D): Promise<{ classes: Int32Array; confidence: Float32Array }> {
    const [classes, confidence] = tf.tidy((): [tf.Tensor, tf.Tensor] => {
      const probabilities = tf.softmax(this.logits(images));
      return [tf.argMax(probabilities, 1), tf.max(probabilities, 1)];
    });
    const result = { classes: Int32Array.from(await classes.data()), confidence: Float32Array.from(await confidence.data()) };
    tf.dispose([classes, confidence]);
    return result;
  }

  /** Predicted class per image. */
  async predict(images: tf.Tensor4D): Promise<Int32Array> {
    return (await this.classify(images)).classes;
  }

  /** Frees the variables. */
  dispose(): void {
    tf.dispose(this.trainableVariables());
  }
}
