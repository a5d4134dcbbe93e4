#!/usr/bin/env node
/**
 * Turns a device check's OUT_DIR into the Markdown the README's benchmark section uses.
 * usage: node summary.mjs OUT_DIR
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const out = process.argv[2];
if (!out) {
  console.error('usage: node summary.mjs OUT_DIR');
  process.exit(2);
}
const read = (name) => (existsSync(join(out, `${name}.json`)) ? JSON.parse(readFileSync(join(out, `${name}.json`), 'utf8')) : undefined);
const check = read('check');
const machine = read('machine');
const contract = read('contract');
const parity = read('unet-parity');
const speed = read('speed');
const torch = read('torch');
const rate = (gflops) => `${gflops >= 10 ? gflops.toFixed(0) : gflops.toPrecision(2)} GFLOP/s`;
const ms = (value) => (value === undefined ? '-' : value >= 100 ? `${value.toFixed(0)} ms` : `${value.toFixed(1)} ms`);
const lines = [];

const gpu = machine?.nvidia?.available
  ? machine.nvidia.gpus.map(([name, driver, memory]) => `${name} (driver ${driver}, ${memory})`).join(', ')
  : undefined;
const adapter = machine?.dawn?.adapters?.find((entry) => entry.vendor !== undefined);
lines.push(
  `### Device check${gpu ? `: ${gpu}` : adapter ? `: ${adapter.description || adapter.vendor}` : ''}${check?.quick ? ' (quick)' : ''}`,
  '',
);
if (machine) {
  lines.push(
    `- Machine: ${machine.cpu.model}, ${machine.cpu.logicalCores} logical cores, ${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node}.`,
  );
  lines.push(
    adapter
      ? `- WebGPU (Dawn over Vulkan): ${[adapter.vendor, adapter.architecture, adapter.description].filter(Boolean).join(' / ')}${adapter.isFallbackAdapter ? ' (software/fallback)' : ''}; shader-f16 ${adapter.shaderF16 ? 'yes' : 'no'}; maxBufferSize ${(adapter.limits.maxBufferSize / 2 ** 20).toFixed(0)} MiB, maxStorageBufferBindingSize ${(adapter.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB.`
      : `- WebGPU: no adapter (${machine.dawn?.reason ?? 'none offered'}).`,
  );
  lines.push(`- CUDA through tfjs: ${machine.tfjsNodeGpu.loaded ? '@tensorflow/tfjs-node-gpu loaded' : machine.tfjsNodeGpu.reason}.`);
  lines.push(
    `- Native kernels: ${machine.nativeKernels.isa ? `${machine.nativeKernels.isa}, ${machine.nativeKernels.threads} threads` : (machine.nativeKernels.reason ?? 'unavailable')}.`,
  );
}
const worst = (rows) => Math.max(0, ...Object.values(rows).map((row) => row.error ?? 0));
if (contract)
  lines.push(
    `- Backend contract (max relative error vs cpu, bound 1e-4): ${Object.entries(contract.backends)
      .map(([name, rows]) => `${name} ${rows.failure ? `failed: ${rows.failure}` : worst(rows).toExponential(1)}`)
      .join(', ')}.`,
  );
if (parity)
  lines.push(
    `- UNet parity (max error / max(1,|x|)): ${Object.entries(parity.backends)
      .map(
        ([name, row]) =>
          `${name}: ${row.failure ? `failed: ${row.failure}` : `tiny fixture vs Diffusers ${row.tinyVsDiffusers.toExponential(1)}, conditioned vs cpu ${row.conditionedVsCpu.toExponential(1)}`}`,
      )
      .join('; ')}.`,
  );
lines.push('');

if (speed) {
  const backends = [...new Set(speed.models.map((row) => row.backend))];
  const torchRows = torch?.ran ? torch.rows : [];
  const torchName = torchRows[0]?.backend;
  const keys = [...new Map(speed.models.map((row) => [`${row.model}|${row.batch}|${row.pass}`, row])).values()];
  const header = ['model', 'batch', 'pass', ...backends, ...(torchName ? [torchName] : [])];
  if (backends.includes('webgpu') && backends.includes('wasm+native')) header.push('webgpu speed-up over wasm+native');
  lines.push(`| ${header.join(' | ')} |`, `| ${header.map((_, i) => (i < 3 ? '---' : '---:')).join(' | ')} |`);
  for (const key of keys) {
    const cell = (backend) =>
      speed.models.find((row) => row.backend === backend && row.model === key.model && row.batch === key.batch && row.pass === key.pass);
    const cells = backends.map((backend) => {
      const row = cell(backend);
      return row ? `${ms(row.ms)} (${rate(row.gflops)})` : '-';
    });
    if (torchName) cells.push(ms(torchRows.find((row) => row.model === key.model && row.batch === key.batch && row.pass === key.pass)?.ms));
    if (header.at(-1) === 'webgpu speed-up over wasm+native') {
      const gpuRow = cell('webgpu');
      const cpuRow = cell('wasm+native');
      cells.push(gpuRow && cpuRow ? `${(cpuRow.ms / gpuRow.ms).toPrecision(2)}x` : '-');
    }
    lines.push(`| ${[key.model, key.batch, key.pass, ...cells].join(' | ')} |`);
  }
  lines.push('');
  const kernelBackends = [...new Set(speed.kernels.map((row) => row.backend))];
  lines.push(`| kernel | shape | ${kernelBackends.join(' | ')} |`, `| --- | --- | ${kernelBackends.map(() => '---:').join(' | ')} |`);
  for (const kernel of [...new Set(speed.kernels.map((row) => row.kernel))]) {
    const rows = speed.kernels.filter((row) => row.kernel === kernel);
    const cells = kernelBackends.map((backend) => {
      const row = rows.find((entry) => entry.backend === backend);
      return row ? `${ms(row.ms)}${row.gflops ? ` (${rate(row.gflops)})` : ''}` : '-';
    });
    lines.push(`| ${kernel} | [${rows[0].shape.join(', ')}] | ${cells.join(' | ')} |`);
  }
  for (const [backend, reason] of Object.entries(speed.failures)) lines.push('', `${backend} failed: ${reason}`);
  lines.push('');
}
if (torch && !torch.ran) lines.push(`PyTorch: not run (${torch.reason}).`, '');
if (check)
  lines.push(
    `Parts: ${Object.entries(check.parts)
      .map(([name, entry]) => `${name} ${entry.status}${entry.seconds !== undefined ? ` (${entry.seconds} s)` : ''}`)
      .join(', ')}.`,
  );
console.log(lines.join('\n'));
