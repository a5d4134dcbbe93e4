/** `diffusion-ts train-classifier`: trains the MNIST evaluation classifier used by `quality`. */
import { loadMnist } from '../data/mnist.js';
import { MnistClassifier } from '../evaluate/mnist-classifier.js';
import { trainMnistClassifier } from '../evaluate/quality.js';
import {
  BACKEND_AND_THREADS_OPTIONS,
  initCommandBackend,
  integerOption,
  numberOption,
  parseCommandArgs,
  UsageError,
  type Command,
} from './arguments.js';

const USAGE = `Usage: diffusion-ts train-classifier --output <folder> [options]

Trains the convolutional MNIST classifier that 'diffusion-ts quality' judges samples with (MNIST
train, random shifts of up to 2 pixels, AdamW), reports its accuracy on MNIST t10k and saves it
(config.json + classifier.safetensors).

Options:
  --output <folder>   where to save the classifier (required)
  --epochs <n>        passes over MNIST train (default 4)
  --learning-rate <x> Adam's learning rate (default 1e-3)
  --init <folder>     continue training this classifier (e.g. a second stage at a lower rate)
  --seed <n>          seed (default 0)
  --backend <name>    wasm (default), cpu, auto, webgpu, cuda
  --threads <n>       CPU threads for the native kernels
  -h, --help          this text`;

async function run(argv: string[]): Promise<void> {
  const args = parseCommandArgs(argv, USAGE, {
    output: { type: 'string' },
    epochs: { type: 'string' },
    'learning-rate': { type: 'string' },
    init: { type: 'string' },
    seed: { type: 'string' },
    ...BACKEND_AND_THREADS_OPTIONS,
  });
  if (args === undefined) return;
  const { values } = args;
  if (values.output === undefined) throw new UsageError('--output <folder> is required');
  const epochs = integerOption(values.epochs, 'epochs', 4);
  const learningRate = numberOption(values['learning-rate'], 'learning-rate', 1e-3, Number.MIN_VALUE);
  const seed = integerOption(values.seed, 'seed', 0, 0);
  const backend = await initCommandBackend(values);
  console.log(`backend: ${backend.backend}${backend.native ? ` + native (${backend.native}, ${backend.threads} threads)` : ''}`);
  const [train, test] = [await loadMnist('train'), await loadMnist('t10k')];
  const started = performance.now();
  const initial = values.init === undefined ? undefined : await MnistClassifier.load(values.init);
  const { classifier, testAccuracy, finalLoss } = await trainMnistClassifier(train, test, {
    epochs,
    learningRate,
    initial,
    seed,
    onEpoch: (epoch, loss) =>
      console.log(`epoch ${epoch + 1}/${epochs}: mean loss ${loss.toFixed(4)} (${((performance.now() - started) / 1000).toFixed(0)} s)`),
  });
  const seconds = Math.round((performance.now() - started) / 1000);
  await classifier.save(values.output, {
    test_accuracy: testAccuracy,
    train_epochs: epochs,
    learning_rate: learningRate,
    train_seconds: seconds,
    final_loss: Number(finalLoss.toFixed(5)),
  });
  classifier.dispose();
  console.log(
    `test accuracy ${(100 * testAccuracy).toFixed(2)}% on MNIST t10k after ${epochs} epochs (${seconds} s); saved to ${values.output}`,
  );
}

/** The `train-classifier` command. */
export const trainClassifierCommand: Command = {
  name: 'train-classifier',
  summary: 'train the MNIST evaluation classifier',
  usage: USAGE,
  run,
};
