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
  parseConfig,
  parseJsonText,
  serializeConfig,
  toCamelCase,
  toSnakeCase,
  type ConfigFieldKind,
  type ConfigFieldSpec,
  type ConfigJson,
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
export { DIFFUSERS_WEIGHTS_NAME, loadPretrained, openPretrained, type PretrainedSource } from './io/pretrained.js';

/** AdamW over a list of variables (PyTorch's update order), one fused kernel per variable where the backend has it. */
export { AdamW, type AdamWOptions } from './optim/adamw.js';
/** SiLU, one fused kernel forward and backward where the backend has them (wasm with `@diffusion-ts/native`). */
export { silu } from './ops/silu.js';
