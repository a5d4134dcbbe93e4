/**
 * Test support for diffusion-ts' own suites and for packages built on it
 * (`@diffusion-ts/core/testing`): which backends to run on, and SwiftShader for WebGPU tests.
 * Not part of the library API.
 */
export { contractBackendNames, testBackendNames, webgpuTestable } from './backends.js';
export { SWIFTSHADER_ICD, useSwiftshaderForTests } from './swiftshader.js';
export { CONTRACT_CASES, contractError, evaluateContractCase, NEEDS_TRAINING_KERNELS } from './contract-cases.js';
