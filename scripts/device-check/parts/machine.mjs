/**
 * Part 1, what the machine has: CPU, memory, NVIDIA GPUs and driver (nvidia-smi), every adapter
 * Dawn offers over Vulkan with its limits and whether it has fp16 (`shader-f16`), the backends
 * diffusion-ts sees, the native kernels, and whether @tensorflow/tfjs-node-gpu could load.
 */
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { listBackends, probeNativeKernels } from '@diffusion-ts/core';
import { messageOf, partArguments, writePartJson } from '../common.mjs';

const { out } = partArguments();

function nvidiaSmi() {
  const query = spawnSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total,compute_cap', '--format=csv,noheader'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (query.error || query.status !== 0) return { available: false, reason: query.error ? messageOf(query.error) : query.stderr.trim() };
  return {
    available: true,
    gpus: query.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(',').map((part) => part.trim())),
  };
}

async function dawnAdapters() {
  let dawn;
  try {
    dawn = await import('webgpu');
  } catch (error) {
    return { available: false, reason: `the webgpu package could not load: ${messageOf(error)}` };
  }
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  const adapters = [];
  for (const request of [{ powerPreference: 'high-performance' }, { powerPreference: 'low-power' }, { forceFallbackAdapter: true }]) {
    try {
      const adapter = await gpu.requestAdapter(request);
      if (!adapter) {
        adapters.push({ request, adapter: null });
        continue;
      }
      const info = adapter.info ?? {};
      const limits = {};
      for (const key of [
        'maxBufferSize',
        'maxStorageBufferBindingSize',
        'maxComputeWorkgroupStorageSize',
        'maxComputeInvocationsPerWorkgroup',
        'maxStorageBuffersPerShaderStage',
      ]) {
        limits[key] = adapter.limits[key];
      }
      adapters.push({
        request,
        vendor: info.vendor,
        architecture: info.architecture,
        device: info.device,
        description: info.description,
        isFallbackAdapter: Boolean(adapter.isFallbackAdapter ?? info.isFallbackAdapter),
        shaderF16: adapter.features.has('shader-f16'),
        features: [...adapter.features].sort(),
        limits,
      });
    } catch (error) {
      adapters.push({ request, error: messageOf(error) });
    }
  }
  return {
    available: adapters.some((entry) => entry.vendor !== undefined),
    vkIcdFilenames: process.env.VK_ICD_FILENAMES ?? null,
    adapters,
  };
}

async function tfjsNodeGpu() {
  try {
    await import('@tensorflow/tfjs-node-gpu');
    return { loaded: true };
  } catch (error) {
    return {
      loaded: false,
      reason: `not installed: it downloads libtensorflow at install, which needs the internet (${messageOf(error).split('\n')[0]})`,
    };
  }
}

const cpu = cpus();
const result = {
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  cpu: { model: cpu[0]?.model ?? 'unknown', logicalCores: cpu.length },
  memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
  nvidia: nvidiaSmi(),
  dawn: await dawnAdapters(),
  backends: (await listBackends()).map(({ name, available, reason, canTrain, software }) => ({
    name,
    available,
    reason,
    canTrain,
    software,
  })),
  nativeKernels: await probeNativeKernels(),
  tfjsNodeGpu: await tfjsNodeGpu(),
};
writePartJson(out, 'machine', result);
console.log(
  `machine: ${result.cpu.model} x${result.cpu.logicalCores}; nvidia-smi: ${result.nvidia.available ? result.nvidia.gpus.map((g) => g[0]).join(', ') : 'none'}; Dawn: ${
    result.dawn.available
      ? result.dawn.adapters
          .filter((a) => a.vendor)
          .map((a) => a.description || a.vendor)
          .join(', ')
      : 'no adapter'
  }`,
);
