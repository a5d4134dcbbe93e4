/** Test helper: runs the CLI in this process and captures what it prints. */
import { vi } from 'vitest';
import { runCli } from '../cli/main.js';

/** The exit code and the console.log / console.error text of one CLI call. */
export interface CapturedRun {
  code: number;
  out: string;
  err: string;
}

/** Runs `diffusion-ts <argv>` in this process with console.log and console.error captured. */
export async function captureCli(argv: string[]): Promise<CapturedRun> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void out.push(parts.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => void err.push(parts.join(' ')));
  try {
    const code = await runCli(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}
