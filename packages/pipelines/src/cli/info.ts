/** `diffusion-ts info`: the backends and what each can do. */
import { parseArgs } from 'node:util';
import { listBackends, nativeKernelsStatus, type BackendInfo } from '@diffusion-ts/core';
import { HELP_OPTION, type Command } from './arguments.js';

const USAGE = `Usage: diffusion-ts info

Lists the tfjs backends diffusion-ts can use here, whether each is available, and whether it
can train (compute every gradient a UNet needs), then whether @diffusion-ts/native runs the wasm
backend's convolutions and matMuls.

Options:
  -h, --help   this text`;

async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: HELP_OPTION });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const backends = await listBackends();
  console.log('backend  available  can train  notes');
  for (const info of backends) {
    const notes = [info.reason, info.trainReason, adapterSummary(info)].filter(Boolean).join('; ');
    console.log(
      `${info.name.padEnd(8)} ${(info.available ? 'yes' : 'no').padEnd(10)} ${(info.canTrain ? 'yes' : 'no').padEnd(10)} ${notes}`,
    );
  }
  const native = nativeKernelsStatus();
  console.log(
    native.active ? `wasm native kernels: on (${native.isa}, ${native.threads} threads)` : `wasm native kernels: off (${native.reason})`,
  );
}

/** One line on a WebGPU adapter: its name, fp16, buffer limit and what the driver said while probed. */
function adapterSummary(info: BackendInfo): string | undefined {
  const parts: string[] = [];
  if (info.adapter) {
    const { vendor, architecture, description } = info.adapter;
    parts.push(`adapter ${[vendor, architecture, description].filter(Boolean).join(' / ')}`);
  }
  const features = info.webgpu?.features;
  if (features) parts.push(`shader-f16 ${features.includes('shader-f16') ? 'yes' : 'no'}`);
  const limits = info.webgpu?.limits;
  if (limits)
    parts.push(
      `max buffer ${(limits.maxBufferSize / 2 ** 20).toFixed(0)} MiB, max storage binding ${(limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB`,
    );
  if (info.webgpu?.notes) parts.push(`driver said: ${info.webgpu.notes}`);
  return parts.length > 0 ? parts.join(', ') : undefined;
}

/** The `info` command. */
export const infoCommand: Command = { name: 'info', summary: 'list backends and their capabilities', usage: USAGE, run };
