import * as tf from '@tensorflow/tfjs-core';
import { Generator } from '@diffusion-ts/core';
import { resolveSchedulerName } from '@diffusion-ts/schedulers';
import type { ImageDataset } from '../data/mnist.js';
import { ClassConditionalPipeline } from '../pipelines/class-conditional.js';
import { loadUNet2DPipeline, type UNet2DPipeline } from '../pipelines/unet-pipeline.js';
import { formatClassShares } from './class-spread.js';
import type { FeatureStatistics } from './frechet-distance.js';
import type { MnistClassifier } from './mnist-classifier.js';
import { classifierFeatureStatistics, evaluateSamples, type SampleQuality } from './quality.js';

/** One sampler setting of the table: a scheduler name (`SCHEDULER_NAMES`) and its step count. */
export interface SamplerSetting {
  scheduler: string;
  steps: number;
  /** Images for this row (overrides the table's count). */
  count?: number;
}

/** The settings the README's table reports: DDPM 1000, DDIM 50/20/10, PNDM 50/20/10. */
export const DEFAULT_SAMPLER_SETTINGS: readonly SamplerSetting[] = [
  { scheduler: 'ddpm', steps: 1000 },
  { scheduler: 'ddim', steps: 50 },
  { scheduler: 'ddim', steps: 20 },
  { scheduler: 'ddim', steps: 10 },
  { scheduler: 'pndm', steps: 50 },
  { scheduler: 'pndm', steps: 20 },
  { scheduler: 'pndm', steps: 10 },
];

/**
 * Parses `ddim:50,dpm++2m-karras:10x500` (`x<n>`: images for that row) into sampler settings;
 * throws naming the bad entry (a scheduler name this version does not implement included).
 */
export function parseSamplerSettings(text: string): SamplerSetting[] {
  return text.split(',').map((entry) => {
    const match = /^([^:\s]+):(\d+)(?:x(\d+))?$/.exec(entry.trim());
    const steps = Number(match?.[2]);
    const count = match?.[3] === undefined ? undefined : Number(match[3]);
    if (!match || steps < 1 || count === 0) throw new Error(`sampler setting '${entry}' is not <scheduler>:<steps>[x<images>]`);
    try {
      resolveSchedulerName(match[1]);
    } catch (error) {
      throw new Error(`sampler setting '${entry}': ${(error as Error).message}`, { cause: error });
    }
    const setting: SamplerSetting = { scheduler: match[1], steps };
    if (count !== undefined) setting.count = count;
    return setting;
  });
}

/** One row of the quality/speed table. */
export interface QualityRow extends SamplerSetting, ComparedQuality {
  count: number;
  secondsPerImage: number;
  /** The guidance scale of a class-conditional model's row. */
  guidanceScale?: number;
}

/** Options of `qualityTable`. */
export interface QualityTableOptions {
  /** Images generated per setting (a setting may override it through `counts`). */
  count: number;
  /** Images per model call. */
  batchSize: number;
  /** Per-scheduler overrides of `count` (e.g. fewer for 1000-step DDPM on a CPU). */
  counts?: Readonly<Record<string, number>>;
  seed?: number;
  /** Also score the first `compareCount` images of every row (the Frechet distance is biased by the sample count). */
  compareCount?: number;
  /**
   * Classifier-free guidance scale for a class-conditional folder (default 1: none). Its rows ask
   * for every class in turn and report the share classified as asked.
   */
  guidanceScale?: number;
  onRow?: (row: QualityRow) => void;
}

/** Runs `score` on a dataset's images as one NHWC tensor, freed afterwards. */
async function withImageTensor<T>(dataset: ImageDataset, score: (images: tf.Tensor4D) => Promise<T>): Promise<T> {
  const images = tf.tensor4d(dataset.images, dataset.shape);
  try {
    return await score(images);
  } finally {
    images.dispose();
  }
}

/** Reference statistics of real images (e.g. the MNIST test set) for the Frechet distance. */
export function referenceStatistics(classifier: MnistClassifier, dataset: ImageDataset): Promise<FeatureStatistics> {
  return withImageTensor(dataset, (images) => classifierFeatureStatistics(classifier, images));
}

/** A sample quality, plus the Frechet distance of the first `compareCount` images when asked. */
export interface ComparedQuality extends SampleQuality {
  /** Frechet distance of the first `compareCount` images only: comparable across rows of different counts. */
  compareFrechetDistance?: number;
}

/** Scores NHWC images against `reference`, and their first `compareCount` alone when there are that many. */
async function scoreImages(
  classifier: MnistClassifier,
  images: tf.Tensor4D,
  reference: FeatureStatistics,
  compareCount?: number,
  asked?: ArrayLike<number>,
): Promise<ComparedQuality> {
  const quality: ComparedQuality = await evaluateSamples(classifier, images, reference, asked);
  if (compareCount !== undefined && compareCount <= images.shape[0]) {
    const first = tf.slice(images, 0, compareCount);
    try {
      quality.compareFrechetDistance = (await evaluateSamples(classifier, first, reference)).frechetDistance;
    } finally {
      first.dispose();
    }
  }
  return quality;
}

/**
 * Scores real images of a dataset (e.g. MNIST train) against `reference`, and their first
 * `compareCount` alone when asked: the table's floor.
 */
export function realImagesQuality(
  classifier: MnistClassifier,
  dataset: ImageDataset,
  reference: FeatureStatistics,
  compareCount?: number,
): Promise<ComparedQuality> {
  return withImageTensor(dataset, (images) => scoreImages(classifier, images, reference, compareCount));
}

/**
 * Samples `count` images per setting from a pipeline folder and scores them: Frechet distance of
 * the classifier's penultimate features against `reference`, class spread, and wall time per image.
 */
export async function qualityTable(
  folder: string,
  classifier: MnistClassifier,
  reference: FeatureStatistics,
  settings: readonly SamplerSetting[],
  options: QualityTableOptions,
): Promise<QualityRow[]> {
  const rows: QualityRow[] = [];
  for (const setting of settings) {
    const pipeline = await loadUNet2DPipeline(folder, { scheduler: setting.scheduler });
    const count = setting.count ?? options.counts?.[setting.scheduler] ?? options.count;
    const generator = new Generator(options.seed ?? 0);
    const conditional = pipeline instanceof ClassConditionalPipeline;
    const asked = conditional ? Int32Array.from({ length: count }, (_, i) => i % pipeline.classCount) : undefined;
    const batches: tf.Tensor4D[] = [];
    const started = performance.now();
    try {
      for (let done = 0; done < count; done += options.batchSize) {
        const batchSize = Math.min(options.batchSize, count - done);
        batches.push(await generateBatch(pipeline, batchSize, setting.steps, generator, asked?.subarray(done, done + batchSize), options));
      }
      const seconds = (performance.now() - started) / 1000;
      const generated = tf.concat(batches) as tf.Tensor4D;
      const quality = await scoreImages(classifier, generated, reference, options.compareCount, asked);
      generated.dispose();
      const row: QualityRow = { ...setting, ...quality, count, secondsPerImage: seconds / count };
      if (conditional) row.guidanceScale = options.guidanceScale ?? 1;
      rows.push(row);
      options.onRow?.(row);
    } finally {
      tf.dispose(batches);
      pipeline.dispose();
    }
  }
  return rows;
}

/** One batch of a row: the classes asked for with guidance on a class-conditional pipeline, plain samples otherwise. */
async function generateBatch(
  pipeline: UNet2DPipeline,
  batchSize: number,
  numInferenceSteps: number,
  generator: Generator,
  asked: Int32Array | undefined,
  options: QualityTableOptions,
): Promise<tf.Tensor4D> {
  const common = { batchSize, numInferenceSteps, generator };
  if (!(pipeline instanceof ClassConditionalPipeline)) return (await pipeline.generate(common)).images;
  return (await pipeline.generate({ ...common, classLabels: asked!, guidanceScale: options.guidanceScale ?? 1 })).images;
}

/** Formats rows as a Markdown table (with a column for `compareFrechetDistance` when rows have it). */
export function formatQualityTable(rows: readonly QualityRow[], compareCount?: number): string {
  const compare = compareCount !== undefined && rows.some((row) => row.compareFrechetDistance !== undefined);
  const asked = rows.some((row) => row.classAccuracy !== undefined);
  const lines = [
    `| sampler | steps |${asked ? ' guidance |' : ''} images | Frechet distance (classifier features) |${compare ? ` Frechet distance, first ${compareCount} images |` : ''}${asked ? ' classified as asked |' : ''} class entropy (bits, max 3.32) | rarest / commonest digit | mean confidence | s/image |`,
    `| --- | --- |${asked ? ' --- |' : ''} --- | --- |${compare ? ' --- |' : ''}${asked ? ' --- |' : ''} --- | --- | --- | --- |`,
  ];
  for (const row of rows) {
    const compareCell = compare ? ` ${row.compareFrechetDistance?.toFixed(2) ?? '-'} |` : '';
    const guidanceCell = asked ? ` ${row.guidanceScale ?? '-'} |` : '';
    const askedCell = asked ? ` ${row.classAccuracy === undefined ? '-' : `${(100 * row.classAccuracy).toFixed(1)}%`} |` : '';
    const label = resolveSchedulerName(row.scheduler).label;
    const scores = `${row.spread.entropyBits.toFixed(3)} | ${formatClassShares(row.spread)} | ${row.meanConfidence.toFixed(3)} | ${row.secondsPerImage.toFixed(3)}`;
    lines.push(
      `| ${label} | ${row.steps} |${guidanceCell} ${row.count} | ${row.frechetDistance.toFixed(2)} |${compareCell}${askedCell} ${scores} |`,
    );
  }
  return lines.join('\n');
}
