import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { condenseNativeMessages, probeDawnInChild } from './dawn-probe.js';
import { DAWN_PACKAGE } from './webgpu.js';

describe('Dawn probe', () => {
  it('condenses native messages to one line without source locations', () => {
    const stderr = [
      'error: XDG_RUNTIME_DIR is invalid or not set in the environment.',
      'Warning: Vulkan shaderUniform*ArrayDynamicIndexing required.',
      ' - While initializing adapter (backend=BackendType::Vulkan)',
      '    at InitializeImpl (/home/runner/work/dawn/src/dawn/native/vulkan/PhysicalDeviceVk.cpp:257)',
      'error: XDG_RUNTIME_DIR is invalid or not set in the environment.',
      '',
    ].join('\n');
    expect(condenseNativeMessages(stderr)).toBe(
      'error: XDG_RUNTIME_DIR is invalid or not set in the environment. | Warning: Vulkan shaderUniform*ArrayDynamicIndexing required.',
    );
    expect(condenseNativeMessages('')).toBe('');
  });

  it('probes in a child process and reports an adapter or a reason', async () => {
    const found = await probeDawnInChild(DAWN_PACKAGE);
    expect(found).toBeDefined();
    expect(typeof found!.notes).toBe('string');
    expect(found!.adapter !== undefined || typeof found!.reason === 'string').toBe(true);
    if (found!.adapter) {
      expect(found!.limits!.maxBufferSize).toBeGreaterThan(0);
      expect(Array.isArray(found!.features)).toBe(true);
    }
  });

  it('is undefined for a package that is not installed', async () => {
    expect(await probeDawnInChild('diffusion-ts-no-such-dawn-package')).toBeUndefined();
  });

  it('keeps the terminal quiet: listBackends prints nothing to stderr, with or without a Vulkan driver', () => {
    const core = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
    const script = `const core = await import(${JSON.stringify(core)}); await core.listBackends();`;
    const drivers = ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json'].filter((path) =>
      existsSync(path),
    );
    for (const icd of [undefined, ...drivers]) {
      const env: NodeJS.ProcessEnv = { ...process.env };
      delete env.XDG_RUNTIME_DIR;
      if (icd) env.VK_ICD_FILENAMES = icd;
      else delete env.VK_ICD_FILENAMES;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
      expect(child.status, child.stderr).toBe(0);
      expect(child.stderr, `VK_ICD_FILENAMES=${icd ?? '(unset)'}`).toBe('');
    }
  });
});
