/**
 * Browser stand-in for the `webgpu` npm package (Dawn for Node). @diffusion-ts/core imports it
 * only under Node, but with a literal specifier that bundlers follow; the site aliases it here so
 * the browser build does not try to bundle Node code. Never called in the browser.
 */
export const globals: Record<string, unknown> = {};
/** Always throws: there is no Dawn in the browser (use navigator.gpu). */
export function create(): never {
  throw new Error('the webgpu (Dawn) package is Node-only; browsers use navigator.gpu');
}
export default { globals, create };
