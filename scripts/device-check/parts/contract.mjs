/**
 * Part 2, the backend contract suite on every GPU backend here (webgpu, cuda when present) and
 * wasm: for each op and its gradients, the max relative error against the cpu backend (the same
 * cases and bound, 1e-4, as core's contract test).
 */
import { backendCanTrain, listBackends } from '@diffusion-ts/core';
import { CONTRACT_CASES, contractError, evaluateContractCase, NEEDS_TRAINING_KERNELS } from '@diffusion-ts/core/testing';
import { messageOf, partArguments, useBackend, writePartJson } from '../common.mjs';

const { out } = partArguments();
const available = new Set((await listBackends()).filter((info) => info.available).map((info) => info.name));
const backends = ['webgpu', 'cuda', 'wasm'].filter((name) => available.has(name));

await useBackend('cpu');
const reference = {};
for (const name of Object.keys(CONTRACT_CASES)) reference[name] = await evaluateContractCase(name);

const result = { bound: 1e-4, backends: {}, pass: true };
for (const backend of backends) {
  const rows = {};
  try {
    await useBackend(backend);
    for (const name of Object.keys(CONTRACT_CASES)) {
      if (NEEDS_TRAINING_KERNELS(name) && !backendCanTrain(backend)) {
        rows[name] = { error: null, note: 'no gradient kernels' };
        continue;
      }
      const error = contractError(await evaluateContractCase(name), reference[name]);
      rows[name] = { error };
      if (!(error <= 1e-4)) result.pass = false;
    }
  } catch (error) {
    rows.failure = messageOf(error);
    result.pass = false;
  }
  result.backends[backend] = rows;
  console.log(`contract on ${backend}: worst ${Math.max(0, ...Object.values(rows).map((row) => row.error ?? 0)).toExponential(1)}`);
}
writePartJson(out, 'contract', result);
// A backend outside the bound fails the part (CI runs this on SwiftShader).
process.exitCode = result.pass ? 0 : 1;
