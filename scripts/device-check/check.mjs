#!/usr/bin/env node
/**
 * The device check: runs each part in its own process, time-limited, and records how each ended
 * in OUT_DIR/check.json (rewritten after every part, so what finished survives a later failure).
 *
 * usage: node check.mjs OUT_DIR [--quick] [--parts machine,contract,unet-parity,speed,torch] [--deadline-s 540]
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writePartJson } from './common.mjs';

/** Each part and its time limit in seconds (full run, quick run). */
const PARTS = {
  machine: [90, 60],
  contract: [150, 120],
  'unet-parity': [180, 240],
  speed: [420, 300],
  torch: [300, 120],
};

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { quick: { type: 'boolean', default: false }, parts: { type: 'string' }, 'deadline-s': { type: 'string', default: '540' } },
});
const out = positionals[0];
if (!out) {
  console.error('usage: node check.mjs OUT_DIR [--quick] [--parts a,b] [--deadline-s 540]');
  process.exit(2);
}
const parts = values.parts ? values.parts.split(',') : Object.keys(PARTS);
for (const part of parts) if (!(part in PARTS)) throw new Error(`unknown part '${part}' (expected ${Object.keys(PARTS).join(', ')})`);
const deadline = Date.now() + Number(values['deadline-s']) * 1000;
const here = dirname(fileURLToPath(import.meta.url));
mkdirSync(out, { recursive: true });

function runPart(part, seconds) {
  return new Promise((resolve) => {
    const log = createWriteStream(join(out, `${part}.log`));
    const started = Date.now();
    const child = spawn(process.execPath, [join(here, 'parts', `${part}.mjs`), out, ...(values.quick ? ['--quick'] : [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      log.write(chunk);
    });
    child.stderr.pipe(log);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, seconds * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      log.end();
      const status = timedOut ? 'timeout' : code === 0 ? 'ok' : 'failed';
      resolve({
        status,
        seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
        limitSeconds: seconds,
        ...(code ? { exitCode: code } : {}),
      });
    });
  });
}

const report = { startedAt: new Date().toISOString(), quick: values.quick, parts: {} };
for (const part of parts) {
  const left = Math.floor((deadline - Date.now()) / 1000);
  const limit = Math.min(PARTS[part][values.quick ? 1 : 0], left);
  if (limit < 10) {
    report.parts[part] = { status: 'skipped', reason: 'the overall deadline was reached' };
  } else {
    console.log(`device check: ${part} (at most ${limit} s)`);
    report.parts[part] = await runPart(part, limit);
  }
  writePartJson(out, 'check', report);
}
const failed = Object.entries(report.parts).filter(([, entry]) => entry.status !== 'ok');
console.log(
  `device check: ${parts.length - failed.length}/${parts.length} parts ok${failed.length ? `; not ok: ${failed.map(([name, entry]) => `${name} (${entry.status})`).join(', ')}` : ''}`,
);
process.exit(failed.length ? 1 : 0);
