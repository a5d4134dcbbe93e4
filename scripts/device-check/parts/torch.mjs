/**
 * Part 5, PyTorch CUDA side by side: when `python3` with a CUDA-enabled torch is on this machine
 * and the bundle carries Diffusers' source, the same UNet rows (DDPM CIFAR-10 layout, forward at
 * batch 1 and 8, training step at batch 8) with Diffusers' own UNet2DModel on the GPU.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APP_ROOT, partArguments, writePartJson } from '../common.mjs';

const { out, quick } = partArguments();
const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'torch_unet.py');
const diffusers = join(APP_ROOT, 'python', 'diffusers', 'src');
const python = process.env.DEVICE_CHECK_PYTHON ?? 'python3';

let result;
const probe = spawnSync(
  python,
  ['-c', 'import torch, json; print(json.dumps({"torch": torch.__version__, "cuda": torch.cuda.is_available()}))'],
  { encoding: 'utf8', timeout: 60_000 },
);
if (probe.error || probe.status !== 0) {
  result = {
    ran: false,
    reason: `no python3 with torch here (${probe.error ? probe.error.message : probe.stderr.trim().split('\n').at(-1)})`,
  };
} else {
  const found = JSON.parse(probe.stdout.trim().split('\n').at(-1));
  if (!found.cuda && !quick) result = { ran: false, reason: `torch ${found.torch} has no CUDA device here`, torch: found.torch };
  else if (!existsSync(diffusers))
    result = { ran: false, reason: 'the bundle carries no Diffusers source (pack with --diffusers-src)', torch: found.torch };
  else {
    const run = spawnSync(python, [script, diffusers, quick ? '--quick' : '--full'], {
      encoding: 'utf8',
      timeout: 400_000,
      maxBuffer: 16 << 20,
    });
    const last = run.stdout.trim().split('\n').at(-1) ?? '';
    result =
      run.status === 0
        ? { ran: true, ...JSON.parse(last) }
        : { ran: false, reason: `torch_unet.py failed: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}` };
  }
}
writePartJson(out, 'torch', result);
console.log(`torch: ${result.ran ? `${result.rows.length} rows on ${result.device}` : result.reason}`);
