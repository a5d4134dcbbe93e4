export {
  assertCanTrain,
  BACKEND_NAMES,
  backendCanTrain,
  chooseBackend,
  currentBackend,
  disposeBackend,
  initBackend,
  listBackends,
  pickAutoBackend,
  probeBackend,
  registerGradients,
  trainingGap,
  TRAINING_KERNELS,
  type BackendInfo,
  type BackendName,
} from './backend/init-backend.js';
export { BackendError, type BackendFault } from './backend/backend-error.js';
export { syncReadbackAllowed } from './backend/sync-readback.js';
export { memoryCapacity, WASM_HEAP_LIMIT_BYTES, type MemoryCapacity } from './backend/memory-capacity.js';
/** Moves tensors (a model's weights) out of the wasm heap or GPU memory to host memory until their next use. */
export { moveToHostMemory } from './backend/host-memory.js';
export { isSoftwareAdapter, probeWebgpu, WEBGPU_PACKAGE, type AdapterDescription, type WebgpuProbe } from './backend/webgpu.js';
export { CUDA_PACKAGE } from './backend/cuda.js';
export { CPU_PACKAGE } from './backend/cpu.js';
export { WASM_PACKAGE } from './backend/wasm.js';
export {
  NATIVE_PACKAGE,
  nativeKernelsStatus,
  probeNativeKernels,
  setNativeThreads,
  useNativeKernels,
  type NativeKernelsStatus,
} from './backend/native-kernels.js';
export {
  initWasmThreaded,
  registerWasmTrainingKernels,
  wasmTrainingKernelsRegistered,
  type WasmThreadsOptions,
  type WasmThreadsReport,
} from './backend/kernels/index.js';
export { upsampleNearest } from './ops/upsample-nearest.js';
/** Group normalisation of NHWC tensors (PyTorch `F.group_norm`), fast on every backend. */
export { groupNormalize, type GroupNormalizeOptions } from './ops/group-normalize.js';
export { writeFileAtomic } from './io/atomic-write.js';
export {
  ConfigError,
  DIFFUSERS_VERSION,
  formatConfigJson,
  formatConfigRange,
  inConfigRange,
  parseConfig,
  parseJsonText,
  serializeConfig,
  toCamelCase,
  toSnakeCase,
  type ConfigFieldKind,
  type ConfigFieldSpec,
  type ConfigJson,
  type ConfigRange,
  type ConfigSchema,
  type ConfigValue,
  type ParsedConfig,
} from './io/config.js';
export { readConfigFile, writeConfigFile } from './io/config-file.js';
export { Generator, randomIntegers, randomlySeededGenerator, type GeneratorState } from './random/generator.js';
export { philox4x32 } from './random/philox.js';
export { randn } from './random/randn.js';
export {
  readSafetensors,
  writeSafetensors,
  SafetensorsError,
  type SafetensorsData,
  type SafetensorsDtype,
  type SafetensorsFile,
  type SafetensorsTensor,
} from './io/safetensors.js';
export { loadSafetensors, saveSafetensors } from './io/safetensors-file.js';
export { WeightsError } from './io/weights-error.js';
/**
 * Safetensors headers alone (names, dtypes, shapes, byte ranges, declared size): parsed by the one
 * bounded parser `readSafetensors` uses, read from a file's first bytes (a `Range` request over
 * http) so that memory can be planned before any data is loaded.
 */
export {
  parseSafetensorsHeader,
  safetensorsHeaderLength,
  SAFETENSORS_DTYPE_BYTES,
  type SafetensorsHeader,
  type SafetensorsHeaderEntry,
} from './io/safetensors.js';
export { readSafetensorsHeader } from './io/safetensors-header.js';
export {
  DIFFUSERS_WEIGHTS_NAME,
  loadPretrained,
  openPretrained,
  type LoadPretrainedOptions,
  type PretrainedSource,
} from './io/pretrained.js';
/**
 * A model's weight files as Diffusers names them: one file, a variant (`fp16`), or shards listed by
 * an index; their size from the headers, their tensors loaded and merged.
 */
export {
  findWeightFiles,
  loadWeightFiles,
  shardIndexName,
  weightFootprint,
  withVariant,
  type FindWeightFilesOptions,
  type WeightFiles,
  type WeightFootprint,
} from './io/weight-files.js';
export { LoadError, type LoadFault } from './io/load-error.js';
export { DEFAULT_LOAD_LIMITS, splitLoadOptions, type LoadOptions } from './io/load-options.js';
/** Short, bounded excerpts of values and names for error messages (safe for huge or deeply nested values). */
export { previewJson, truncateText } from './io/json-preview.js';
/** A byte count for messages (`3.20 GiB`). */
export { formatBytes } from './io/format-bytes.js';

/** AdamW over a list of variables (PyTorch's update order), one fused kernel per variable where the backend has it. */
export { AdamW, LEARNING_RATE_SCHEDULES, type AdamWOptions, type LearningRateSchedule } from './optim/adamw.js';
/** SiLU, one fused kernel forward and backward where the backend has them (wasm with `@diffusion-ts/native`). */
export { silu } from './ops/silu.js';
