/** The SwiftShader Vulkan driver that Debian's `chromium` package ships. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

type FileSystem = { existsSync(path: string): boolean };

/**
 * For tests only: points Dawn (the npm package `webgpu`) at SwiftShader's Vulkan driver when
 * `VK_ICD_FILENAMES` is unset and the driver is installed, so that WebGPU can be tested on a
 * machine without a GPU. Must run before the first WebGPU probe. Returns whether SwiftShader is
 * the driver now. Library code (`initBackend('auto')`) never calls this. No-op outside Node.
 */
export function useSwiftshaderForTests(): boolean {
  const node = (globalThis as { process?: NodeJS.Process }).process;
  if (!node?.env) return false;
  if (node.env.VK_ICD_FILENAMES) return node.env.VK_ICD_FILENAMES === SWIFTSHADER_ICD;
  // getBuiltinModule (Node >= 20.16) keeps `node:fs` out of browser bundles.
  const fs = (node as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule?.('node:fs') as FileSystem | undefined;
  if (!fs?.existsSync(SWIFTSHADER_ICD)) return false;
  node.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  return true;
}
