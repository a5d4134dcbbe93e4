/** `diffusion-ts quality`: the quality/speed table of the samplers for an MNIST model. */
import { writeFileAtomic } from '@diffusion-ts/core';
import { loadMnist } from '../data/mnist.js';
import { formatClassShares } from '../evaluate/class-spread.js';
import { MnistClassifier } from '../evaluate/mnist-classifier.js';
import { DEFAULT_CLASS_GUIDANCE } from '../pipelines/class-conditional.js';
import {
  DEFAULT_SAMPLER_SETTINGS,
  formatQualityTable,
  type ComparedQuality,
  type QualityRow,
  parseSamplerSettings,
  qualityTable,
  realImagesQuality,
  referenceStatistics,
} from '../evaluate/quality-table.js';
import {
  BACKEND_AND_THREADS_OPTIONS,
  BATCH_SIZE_OPTION,
  SEED_OPTION,
  initCommandBackend,
  integerOption,
  modelFolder,
  numberOption,
  parseCommandArgs,
  seedOption,
  UsageError,
  type Command,
} from './arguments.js';

const USAGE = `Usage: diffusion-ts quality [model-folder] --classifier <folder> [options]

Samples every setting of the table (DDPM 1000, DDIM 50/20/10, PNDM 50/20/10), then reports the
Frechet distance between the classifier's penultimate features on the generated digits and on
MNIST test digits, the classifier's class spread, and the wall time per image.

Options:
  --classifier <folder>     the MNIST classifier (models/mnist-classifier)
  --count <n>               images per setting (default 2000)
  --ddpm-count <n>          images for 1000-step DDPM (default: --count)
  --reference-count <n>     MNIST test images for the reference statistics (default 10000)
  --settings <list>         which rows, e.g. ddim:50,pndm:10x500 (x<n>: images for that row;
                            default: all seven)
  --compare-count <n>       also the Frechet distance of each row's first n images (rows of
                            different sizes compare fairly on it)
  --guidance <x>            class-conditional folders: classifier-free guidance scale (default
                            ${DEFAULT_CLASS_GUIDANCE}); every class is asked for in turn and the share classified
                            as asked is reported
  --batch-size <n>          images per model call (default 100)
  --seed <n>                seed (default 0)
  --backend <name>          wasm (default), cpu, auto, webgpu, cuda
  --threads <n>             CPU threads: native kernels or threaded wasm (default: all cores, at most 8; 1 on a busy machine)
  --output <file.md>        also write the table to this file
  -h, --help                this text`;

/** `, guidance g: p% as asked (per class: …)` for a class-conditional row. */
function askedText(row: QualityRow): string {
  if (row.classAccuracy === undefined) return '';
  const perClass = (row.perClassAccuracy ?? []).map((share, c) => `${c}: ${(100 * share).toFixed(1)}`).join(', ');
  return `, guidance ${row.guidanceScale}: ${(100 * row.classAccuracy).toFixed(1)}% classified as asked (per class: ${perClass})`;
}

async function run(argv: string[]): Promise<void> {
  const args = parseCommandArgs(argv, USAGE, {
    classifier: { type: 'string' },
    count: { type: 'string' },
    'ddpm-count': { type: 'string' },
    'reference-count': { type: 'string' },
    settings: { type: 'string' },
    'compare-count': { type: 'string' },
    guidance: { type: 'string' },
    ...BATCH_SIZE_OPTION,
    ...SEED_OPTION,
    ...BACKEND_AND_THREADS_OPTIONS,
    output: { type: 'string' },
  });
  if (args === undefined) return;
  const { values, positionals } = args;
  const folder = modelFolder(positionals);
  if (values.classifier === undefined) throw new UsageError('--classifier <folder> is required');
  const count = integerOption(values.count, 'count', 2000);
  let settings = DEFAULT_SAMPLER_SETTINGS;
  if (values.settings !== undefined) {
    try {
      settings = parseSamplerSettings(values.settings);
    } catch (error) {
      throw new UsageError(`--settings: ${(error as Error).message}`);
    }
  }
  const compareCount = values['compare-count'] === undefined ? undefined : integerOption(values['compare-count'], 'compare-count', 1, 2);
  /** ` (first n: d)` when the quality has a Frechet distance on its first n images. */
  const compared = (quality: ComparedQuality) =>
    quality.compareFrechetDistance === undefined ? '' : ` (first ${compareCount}: ${quality.compareFrechetDistance.toFixed(2)})`;
  await initCommandBackend(values);
  const classifier = await MnistClassifier.load(values.classifier);
  const test = await loadMnist('t10k', { limit: integerOption(values['reference-count'], 'reference-count', 10000) });
  const reference = await referenceStatistics(classifier, test);
  const real = await realImagesQuality(classifier, await loadMnist('train', { limit: count }), reference, compareCount);
  console.log(
    `real MNIST train digits (${count}): Frechet ${real.frechetDistance.toFixed(2)}${compared(real)}, entropy ${real.spread.entropyBits.toFixed(3)} bits, digits ${formatClassShares(real.spread, '-')}, mean confidence ${real.meanConfidence.toFixed(3)}`,
  );
  const rows = await qualityTable(folder, classifier, reference, settings, {
    count,
    counts: { ddpm: integerOption(values['ddpm-count'], 'ddpm-count', count) },
    batchSize: integerOption(values['batch-size'], 'batch-size', 100),
    seed: seedOption(values.seed),
    compareCount,
    guidanceScale: numberOption(values.guidance, 'guidance', DEFAULT_CLASS_GUIDANCE, 0),
    onRow: (row) =>
      console.log(
        `${row.scheduler} ${row.steps} steps, ${row.count} images: Frechet ${row.frechetDistance.toFixed(2)}${compared(row)}${askedText(row)}, entropy ${row.spread.entropyBits.toFixed(3)} bits, digits ${formatClassShares(row.spread, '-')}, mean confidence ${row.meanConfidence.toFixed(3)}, ${row.secondsPerImage.toFixed(3)} s/image`,
      ),
  });
  classifier.dispose();
  const table = formatQualityTable(rows, compareCount);
  console.log(`\n${table}`);
  if (values.output) await writeFileAtomic(values.output, `${table}\n`);
}

/** The `quality` command. */
export const qualityCommand: Command = { name: 'quality', summary: 'sampler quality/speed table (MNIST)', usage: USAGE, run };
