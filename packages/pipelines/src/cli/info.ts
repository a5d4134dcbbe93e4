/** `diffusion-ts info`: the backends and what each can do. */
import { parseArgs } from 'node:util';
import { listBackends, nativeKernelsStatus } from '@diffusion-ts/core';
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
    const notes = [info.reason, info.trainReason, info.adapter ? JSON.stringify(info.adapter) : undefined].filter(Boolean).join('; ');
    console.log(`${info.name.padEnd(8)} ${(info.available ? 'yes' : 'no').padEnd(10)} ${(info.canTrain ? 'yes' : 'no').padEnd(10)} ${notes}`);
  }
  const native = nativeKernelsStatus();
  console.log(
    native.active
      ? `wasm native kernels: on (${native.isa}, ${native.threads} threads)`
      : `wasm native kernels: off (${native.reason})`,
  );
}

/** The `info` command. */
export const infoCommand: Command = { name: 'info', summary: 'list backends and their capabilities', usage: USAGE, run };
