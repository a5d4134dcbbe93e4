// End-to-end test of the live demo in headless Debian Chromium against the built site
// (`pnpm --filter docs build` first). Screenshots and timings go to apps/docs/test-results/.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_PATH, launchChromium } from './chromium';
import { serveFolder, type StaticServer } from './static-server';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const results = fileURLToPath(new URL('../test-results/', import.meta.url));
/** The build copies the repository's shipped model into the site; the demo must then run it. */
const expectedModel = existsSync(fileURLToPath(new URL('../../../models/mnist-ddpm/unet/config.json', import.meta.url)))
  ? 'shipped'
  : 'random';
/** The build copies the class-conditional model too; the digit picker appears only then. */
const hasClassModel = existsSync(fileURLToPath(new URL('../../../models/mnist-class-ddpm/unet/config.json', import.meta.url)));
/** Small runs: WebGPU on SwiftShader compiles every shader on the CPU during the first step. */
const RUNS = { wasm: { steps: 4, batch: 4 }, webgpu: { steps: 2, batch: 1 } } as const;

let server: StaticServer;
beforeAll(async () => {
  if (!existsSync(CHROMIUM_PATH)) return;
  if (!existsSync(`${dist}demo.html`)) throw new Error(`no built site at ${dist}: run \`pnpm --filter docs build\` first`);
  mkdirSync(results, { recursive: true });
  server = await serveFolder(dist);
});
afterAll(async () => {
  await server?.close();
});

/** Console errors and uncaught page errors, collected for the assertion at the end. */
function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console.error: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400) errors.push(`HTTP ${response.status()} ${response.url()}`);
  });
  return errors;
}

/** Pixel statistics of the demo canvas: mean and standard deviation of the grey values. */
async function canvasStatistics(page: Page): Promise<{ mean: number; deviation: number; width: number }> {
  return page.$eval('[data-testid="canvas"]', (element) => {
    const canvas = element as HTMLCanvasElement;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0;
    let squares = 0;
    const count = data.length / 4;
    for (let index = 0; index < data.length; index += 4) {
      sum += data[index];
      squares += data[index] * data[index];
    }
    const mean = sum / count;
    return { mean, deviation: Math.sqrt(Math.max(0, squares / count - mean * mean)), width: canvas.width };
  });
}

/** Opens the demo, generates, checks the canvas and the reported backend; returns the timings. */
async function runDemo(page: Page, backend: 'wasm' | 'webgpu') {
  const errors = collectErrors(page);
  const { steps, batch } = RUNS[backend];
  await page.goto(`${server.url}/demo.html?backend=${backend}&steps=${steps}&batch=${batch}&scheduler=DDIMScheduler`);
  const demo = page.locator('.mnist-demo');
  await demo.and(page.locator('[data-state="ready"], [data-state="error"]')).waitFor({ timeout: 90_000 });
  if ((await demo.getAttribute('data-state')) === 'error') throw new Error(await page.locator('[data-testid="status"]').innerText());
  // ?scheduler=DDIMScheduler (a class name) shows as its short name in the menu.
  expect(await page.locator('[data-testid="scheduler"]').inputValue()).toBe('ddim');
  await page.click('[data-testid="generate"]');
  await demo.and(page.locator('[data-state="done"], [data-state="error"]')).waitFor({ timeout: 240_000 });
  const status = await page.locator('[data-testid="status"]').innerText();
  expect(await demo.getAttribute('data-state'), status).toBe('done');

  const shownBackend = await page.locator('[data-testid="backend"]').innerText();
  expect(shownBackend).toBe(backend);
  expect(await demo.getAttribute('data-backend')).toBe(backend);
  const model = await demo.getAttribute('data-model');
  expect(model).toBe(expectedModel);

  const drawn = await canvasStatistics(page);
  expect(drawn.width, 'canvas narrower than one 28-pixel image at 4x').toBeGreaterThanOrEqual(28 * 4);
  expect(drawn.deviation, 'canvas is constant').toBeGreaterThan(5);
  expect(drawn.mean, 'canvas is blank white').toBeLessThan(250);
  expect(await page.locator('[data-testid="progress"]').innerText()).toMatch(/^step \d+ \/ \d+$/);
  expect(await page.locator('[data-testid="timing"]').innerText()).toMatch(/ms per step/);

  await page.locator('.mnist-demo').screenshot({ path: `${results}demo-${backend}.png` });
  await page.screenshot({ path: `${results}demo-${backend}-page.png`, fullPage: true });
  expect(errors).toEqual([]);
  return {
    backend,
    model,
    steps,
    batch,
    msPerStep: Number(await demo.getAttribute('data-ms-per-step')),
    msPerLaterStep: Number(await demo.getAttribute('data-ms-per-later-step')),
    timing: await page.locator('[data-testid="timing"]').innerText(),
  };
}

// CI installs Debian's chromium (.ci/run); elsewhere the suite says why it does not run.
const hasChromium = existsSync(CHROMIUM_PATH);
if (!hasChromium) console.warn(`docs e2e skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`);

describe.skipIf(!hasChromium)('live demo in headless Chromium', () => {
  it('generates a grid on wasm', async () => {
    const browser = await launchChromium(false);
    try {
      const page = await browser.context.newPage();
      const timings = await runDemo(page, 'wasm');
      console.log('demo timings', timings);
      writeFileSync(`${results}timings-wasm.json`, `${JSON.stringify(timings, null, 2)}\n`);
    } finally {
      await browser.close();
    }
  });

  it('generates a grid on WebGPU when Chromium exposes it (SwiftShader)', async (context) => {
    const browser = await launchChromium(true);
    try {
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/index.html`);
      const adapter = await page.evaluate(async () => {
        const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
        if (!gpu) return 'no navigator.gpu';
        try {
          return (await gpu.requestAdapter()) ? 'ok' : 'requestAdapter() returned null';
        } catch (error) {
          return `requestAdapter() threw ${String(error)}`;
        }
      });
      if (adapter !== 'ok') {
        console.log(`WebGPU not exposed by this Chromium: ${adapter}`);
        context.skip();
      }
      const timings = await runDemo(page, 'webgpu');
      console.log('demo timings', timings);
      writeFileSync(`${results}timings-webgpu.json`, `${JSON.stringify(timings, null, 2)}\n`);
    } finally {
      await browser.close();
    }
  });

  it.skipIf(!hasClassModel)('draws the digit picked in the digit picker with the class-conditional model (wasm)', async () => {
    const browser = await launchChromium(false);
    try {
      const page = await browser.context.newPage();
      const errors = collectErrors(page);
      await page.goto(`${server.url}/demo.html?backend=wasm&steps=4&batch=4&scheduler=DDIMScheduler`);
      const demo = page.locator('.mnist-demo');
      await demo.and(page.locator('[data-state="ready"], [data-state="error"]')).waitFor({ timeout: 90_000 });
      expect(await demo.getAttribute('data-digit')).toBe('any');
      await expect(page.locator('[data-testid="guidance"]').count()).resolves.toBe(0);
      await page.selectOption('[data-testid="digit"]', '7');
      expect(await demo.getAttribute('data-digit')).toBe('7');
      await expect(page.locator('[data-testid="guidance"]').inputValue()).resolves.toBe('1.35');
      await page.click('[data-testid="generate"]');
      await demo.and(page.locator('[data-state="done"], [data-state="error"]')).waitFor({ timeout: 240_000 });
      const status = await page.locator('[data-testid="status"]').innerText();
      expect(await demo.getAttribute('data-state'), status).toBe('done');
      expect(await demo.getAttribute('data-model-kind')).toBe('class-conditional');
      expect(await page.locator('[data-testid="model"]').innerText()).toMatch(/class-conditional MNIST model \([\d,]+ parameters\)/);
      const drawn = await canvasStatistics(page);
      expect(drawn.deviation, 'canvas is constant').toBeGreaterThan(5);
      expect(drawn.mean, 'canvas is blank white').toBeLessThan(250);
      await page.locator('.mnist-demo').screenshot({ path: `${results}demo-digit-7.png` });
      // Back to "any": the unconditional model again.
      await page.selectOption('[data-testid="digit"]', 'any');
      await page.click('[data-testid="generate"]');
      // The attribute pair changes only once this second run has finished.
      await page.locator('.mnist-demo[data-model-kind="unconditional"][data-state="done"]').waitFor({ timeout: 240_000 });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
