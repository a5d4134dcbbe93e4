import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyUNetConfig } from '../testing/tiny-unet-config.js';

// The built CLI (`npm test` builds before it runs the suites).
const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

interface LogEntry {
  step: number;
  loss: number;
  gradNorm: number;
}

async function readLog(folder: string): Promise<LogEntry[]> {
  const text = await readFile(join(folder, 'training-log.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as LogEntry);
}

/** Runs `diffusion-ts train`; with `killAfterSteps`, SIGKILLs it once the log holds that many steps. */
function train(args: string[], killAfterSteps?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'train', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    let timer: NodeJS.Timeout | undefined;
    if (killAfterSteps !== undefined) {
      const folder = args[args.indexOf('--output') + 1];
      timer = setInterval(() => {
        void readLog(folder).then((log) => {
          if (log.length >= killAfterSteps && child.exitCode === null) child.kill('SIGKILL');
        });
      }, 20);
    }
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearInterval(timer);
      resolve({ code, signal, out });
    });
  });
}

describe('diffusion-ts train: kill -9, then --resume', () => {
  let folder: string;
  let common: string[];
  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
    folder = await mkdtemp(join(tmpdir(), 'kill-resume-'));
    const images = join(folder, 'images');
    await mkdir(images);
    for (let i = 0; i < 6; i++) {
      const data = Uint8Array.from({ length: 64 }, (_, j) => (j * 37 + i * 91) % 256);
      await writeFile(join(images, `digit-${i}.png`), encode({ width: 8, height: 8, data, channels: 1, depth: 8 }));
    }
    // A config.json as Diffusers writes it: snake_case keys.
    await writeTinyUNetConfig(join(folder, 'config.json'));
    common = [
      '--dataset',
      images,
      '--config',
      join(folder, 'config.json'),
      '--batch-size',
      '2',
      '--steps',
      '12',
      '--checkpoint-every',
      '4',
      '--warmup',
      '3',
      '--backend',
      'cpu',
    ];
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  it('continues from the last checkpoint with losses identical to an uninterrupted run', async () => {
    const whole = join(folder, 'whole');
    const killed = join(folder, 'killed');
    const first = await train([...common, '--output', whole]);
    expect(first.code, first.out).toBe(0);
    const reference = await readLog(whole);
    expect(reference.map((entry) => entry.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

    const interrupted = await train([...common, '--output', killed], 7);
    expect(interrupted.signal).toBe('SIGKILL');
    expect(existsSync(join(killed, 'checkpoint.safetensors'))).toBe(true);
    const resumed = await train([...common, '--output', killed, '--resume']);
    expect(resumed.code, resumed.out).toBe(0);
    expect(resumed.out).toMatch(/resumed .* at step (4|8)/);

    // The log is cut back to the checkpoint on resume, so every step appears once, bit-identical.
    expect(await readLog(killed)).toEqual(
      reference.map((entry): unknown => expect.objectContaining({ step: entry.step, loss: entry.loss, gradNorm: entry.gradNorm })),
    );
    const weights = 'model/unet/diffusion_pytorch_model.safetensors';
    expect(Buffer.compare(await readFile(join(killed, weights)), await readFile(join(whole, weights)))).toBe(0);
  }, 120_000);
});
