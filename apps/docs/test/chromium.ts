import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's Chromium; the tests never download a browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const FLAGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** A headless Chromium with a fresh profile folder (removed by `close`). */
export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches headless Debian Chromium; `webgpu` adds the flags that expose WebGPU (SwiftShader). */
export async function launchChromium(webgpu: boolean): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'diffusion-ts-chromium-'));
  const args = webgpu
    ? [...FLAGS, '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader', '--use-webgpu-adapter=swiftshader']
    : FLAGS;
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args,
    viewport: { width: 1100, height: 1100 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
