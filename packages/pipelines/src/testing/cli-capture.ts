/** Test helper: runs the CLI in this process and captures what it prints. */
import { vi } from 'vitest';
import { runCli } from '../cli/main.js';

/** The exit code and the console.log / console.error text of one CLI call. */
export interface CapturedRun {
  code: number;
  out: string;
  err: string;
}

/** What else `captureCli` silences: console.warn, and stderr writes (progress bars, counted in `err`). */
export interface CaptureOptions {
  muteWarnings?: boolean;
  stderrWrites?: boolean;
}

/** Runs `diffusion-ts <argv>` in this process with console.log and console.error captured. */
export async function captureCli(argv: string[], options: CaptureOptions = {}): Promise<CapturedRun> {
  const out: string[] = [];
  const err: string[] = [];
  const spies = [
    vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void out.push(parts.join(' '))),
    vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => void err.push(parts.join(' '))),
  ];
  if (options.muteWarnings === true) spies.push(vi.spyOn(console, 'warn').mockImplementation(() => undefined));
  if (options.stderrWrites === true) {
    spies.push(vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => err.push(String(chunk)) > 0));
  }
  try {
    const code = await runCli(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}
