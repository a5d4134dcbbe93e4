// Draws a training run's loss curve as a PNG for a model card:
//   node scripts/models/loss-curve.mjs <training-log.jsonl> <out.png> [--window 100]
// Every step's loss is a light grey dot, the mean over a sliding window a black line; the y axis is
// logarithmic (gridlines and labels at 1, 0.1, 0.01, …), the x axis in optimizer steps (a gridline
// and label every 1,000 or 5,000 steps). Labels use a built-in 3x5 pixel font (no font files).
// Needs the built pipelines package (npm run build).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { writePng } from '../../packages/pipelines/dist/index.js';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { window: { type: 'string', default: '100' } } });
if (positionals.length !== 2) {
  console.error('usage: node scripts/models/loss-curve.mjs <training-log.jsonl> <out.png> [--window 100]');
  process.exit(2);
}
const [logPath, outPath] = positionals;
const window = Number(values.window);
const entries = readFileSync(logPath, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line))
  .filter((entry) => Number.isFinite(entry.loss) && entry.loss > 0);
if (entries.length === 0) throw new Error(`${logPath}: no logged losses`);

const WIDTH = 720;
const HEIGHT = 360;
const LEFT = 40;
const RIGHT = 12;
const TOP = 12;
const BOTTOM = 24;
const pixels = new Uint8Array(WIDTH * HEIGHT * 3).fill(255);

function plot(x, y, [r, g, b]) {
  x = Math.round(x);
  y = Math.round(y);
  if (x < 0 || y < 0 || x >= WIDTH || y >= HEIGHT) return;
  const at = (y * WIDTH + x) * 3;
  pixels[at] = r;
  pixels[at + 1] = g;
  pixels[at + 2] = b;
}

function line(x0, y0, x1, y1, colour) {
  const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
  for (let i = 0; i <= steps; i++) plot(x0 + ((x1 - x0) * i) / steps, y0 + ((y1 - y0) * i) / steps, colour);
}

// 3x5 glyphs, rows top to bottom, 3 bits each (4 = left pixel).
const GLYPHS = {
  0: [7, 5, 5, 5, 7],
  1: [2, 6, 2, 2, 7],
  2: [7, 1, 7, 4, 7],
  3: [7, 1, 7, 1, 7],
  4: [5, 5, 7, 1, 1],
  5: [7, 4, 7, 1, 7],
  6: [7, 4, 7, 5, 7],
  7: [7, 1, 1, 1, 1],
  8: [7, 5, 7, 5, 7],
  9: [7, 5, 7, 1, 7],
  '.': [0, 0, 0, 0, 2],
  k: [4, 5, 6, 5, 5],
};

/** Writes `text` with its top-left corner at (x, y), each font pixel drawn as 2x2. */
function label(text, x, y, colour = [0, 0, 0]) {
  for (const [index, char] of [...text].entries()) {
    const rows = GLYPHS[char];
    if (!rows) throw new Error(`no glyph for '${char}'`);
    for (let row = 0; row < 5; row++) {
      for (let col = 0; col < 3; col++) {
        if (!(rows[row] & (4 >> col))) continue;
        for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) plot(x + index * 8 + col * 2 + dx, y + row * 2 + dy, colour);
      }
    }
  }
}

const lastStep = entries[entries.length - 1].step;
const losses = entries.map((entry) => entry.loss);
const lowDecade = Math.floor(Math.log10(Math.min(...losses)));
const highDecade = Math.ceil(Math.log10(Math.max(...losses)));
const plotWidth = WIDTH - LEFT - RIGHT;
const plotHeight = HEIGHT - TOP - BOTTOM;
const xOf = (step) => LEFT + (step / lastStep) * plotWidth;
const yOf = (loss) => TOP + ((highDecade - Math.log10(loss)) / (highDecade - lowDecade)) * plotHeight;

const GRID = [225, 225, 225];
for (let decade = lowDecade; decade <= highDecade; decade++) {
  const y = yOf(10 ** decade);
  line(LEFT, y, WIDTH - RIGHT, y, GRID);
  label(decade >= 0 ? String(10 ** decade) : `0.${'0'.repeat(-decade - 1)}1`, 2, Math.round(y) - 5);
}
const tick = lastStep > 20_000 ? 5000 : 1000;
for (let step = 0; step <= lastStep; step += tick) {
  const x = xOf(step);
  line(x, TOP, x, HEIGHT - BOTTOM, GRID);
  const text = step === 0 ? '0' : `${step / 1000}k`;
  label(text, Math.round(x) - text.length * 4, HEIGHT - BOTTOM + 6);
}
line(LEFT, TOP, LEFT, HEIGHT - BOTTOM, [0, 0, 0]);
line(LEFT, HEIGHT - BOTTOM, WIDTH - RIGHT, HEIGHT - BOTTOM, [0, 0, 0]);

for (const entry of entries) plot(xOf(entry.step), yOf(entry.loss), [185, 185, 185]);
let sum = 0;
let previous = null;
for (let i = 0; i < entries.length; i++) {
  sum += losses[i];
  if (i >= window) sum -= losses[i - window];
  if (i < Math.min(window, entries.length) - 1) continue;
  const point = [xOf(entries[i].step), yOf(sum / Math.min(window, i + 1))];
  if (previous) line(previous[0], previous[1], point[0], point[1], [20, 60, 200]);
  previous = point;
}

await writePng(outPath, { width: WIDTH, height: HEIGHT, channels: 3, pixels });
const tail = losses.slice(-window);
console.log(
  `wrote ${outPath}: ${entries.length} steps, mean loss over the last ${tail.length} ${(tail.reduce((a, b) => a + b, 0) / tail.length).toFixed(4)}`,
);
