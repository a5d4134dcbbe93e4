// End-to-end test of the Stable Diffusion pipeline in headless Debian Chromium: the tiny random
// pipeline of sd-test.html on wasm and on WebGPU (SwiftShader), against the built site.
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_PATH, launchChromium } from './chromium';
import { serveFolder, type StaticServer } from './static-server';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const results = fileURLToPath(new URL('../test-results/', import.meta.url));
const hasChromium = existsSync(CHROMIUM_PATH);

let server: StaticServer;
beforeAll(async () => {
  if (!hasChromium) return;
  if (!existsSync(`${dist}sd-test.html`)) throw new Error(`no built site at ${dist}: run \`pnpm --filter docs build\` first`);
  mkdirSync(results, { recursive: true });
  server = await serveFolder(dist);
});
afterAll(async () => {
  await server?.close();
});

async function runPage(page: Page, backend: 'wasm' | 'webgpu', steps: number): Promise<string> {
  const errors: string[] = [];
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${server.url}/sd-test.html?backend=${backend}&steps=${steps}`);
  const root = page.locator('.sd-test');
  await root.and(page.locator('[data-state="ready"], [data-state="error"]')).waitFor({ timeout: 90_000 });
  // Clicked from the page: the run blocks the main thread for long stretches (WebGPU on SwiftShader
  // compiles every shader on the CPU), which Playwright's own click would wait out and time out on.
  await page.locator('[data-testid="generate"]').evaluate((button) => (button as HTMLButtonElement).click());
  await root.and(page.locator('[data-state="done"], [data-state="error"]')).waitFor({ timeout: 280_000 });
  const status = await page.locator('[data-testid="status"]').innerText();
  expect(await root.getAttribute('data-state'), status).toBe('done');
  expect(await root.getAttribute('data-backend')).toBe(backend);
  expect(await root.getAttribute('data-leaked'), 'tensors left after the run').toBe('0');
  expect(await page.locator('[data-testid="progress"]').innerText()).toBe(`step ${steps} / ${steps}`);
  const deviation = await page.$eval('[data-testid="canvas"]', (element) => {
    const canvas = element as HTMLCanvasElement;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < data.length; i += 4) {
      sum += data[i];
      squares += data[i] * data[i];
    }
    const count = data.length / 4;
    return Math.sqrt(Math.max(0, squares / count - (sum / count) ** 2));
  });
  expect(deviation, 'the decoded image is constant').toBeGreaterThan(1);
  await root.screenshot({ path: `${results}sd-test-${backend}.png` });
  expect(errors).toEqual([]);
  return page.locator('[data-testid="timing"]').innerText();
}

describe.skipIf(!hasChromium)('tiny Stable Diffusion pipeline in headless Chromium', () => {
  it('runs text encoder, guided loop and VAE decode on wasm', async () => {
    const browser = await launchChromium(false);
    try {
      console.log('sd-test wasm:', await runPage(await browser.context.newPage(), 'wasm', 3));
    } finally {
      await browser.close();
    }
  });

  it('runs on WebGPU when Chromium exposes it (SwiftShader)', async (context) => {
    const browser = await launchChromium(true);
    try {
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/index.html`);
      const adapter = await page.evaluate(async () => {
        const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
        return gpu && (await gpu.requestAdapter()) ? 'ok' : 'no adapter';
      });
      if (adapter !== 'ok') {
        console.log(`WebGPU not exposed by this Chromium: ${adapter}`);
        context.skip();
      }
      console.log('sd-test webgpu:', await runPage(page, 'webgpu', 2));
    } finally {
      await browser.close();
    }
  });
});
