import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type DefaultTheme } from 'vitepress';

const apiRoot = fileURLToPath(new URL('../api/@diffusion-ts/', import.meta.url));
/** One sidebar entry per package TypeDoc documented (whatever exists at build time). */
function apiSidebar(): DefaultTheme.SidebarItem[] {
  const names = existsSync(apiRoot) ? readdirSync(apiRoot).sort() : [];
  return [
    { text: 'Overview', link: '/api/' },
    ...names.map((name) => ({ text: `@diffusion-ts/${name}`, link: `/api/@diffusion-ts/${name}/` })),
  ];
}

const guide: DefaultTheme.SidebarItem[] = [
  { text: 'Installing what you need', link: '/guide/installing' },
  { text: 'Generating from the shipped model', link: '/guide/generating' },
  { text: 'Swapping schedulers', link: '/guide/schedulers' },
  { text: 'A custom pipeline', link: '/guide/custom-pipeline' },
  { text: 'Training on your own images', link: '/guide/training' },
  { text: 'Training beyond one machine', link: '/guide/training-beyond' },
  { text: 'Diffusers checkpoints', link: '/guide/checkpoints' },
  { text: 'Text-to-image from a Diffusers folder', link: '/guide/text-to-image' },
  { text: 'Choosing a backend', link: '/guide/backends' },
  { text: 'The math in brief', link: '/guide/math' },
];

export default defineConfig({
  title: 'diffusion-ts',
  description: 'Diffusion models in TypeScript on TensorFlow.js, in the style of Hugging Face Diffusers.',
  cleanUrls: false,
  // apps/docs/dist, so turbo's `build` outputs (dist/**) cover the built site.
  outDir: 'dist',
  lastUpdated: false,
  head: [['link', { rel: 'icon', type: 'image/svg+xml', href: '/favicon.svg' }]],
  // The generated API pages link to each other with relative .md links; guides link into them.
  ignoreDeadLinks: [/^\.\/api\//, /^\/api\//],
  markdown: { math: false },
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/guide/installing' },
      { text: 'Demo', link: '/demo' },
      { text: 'API', link: '/api/' },
    ],
    sidebar: {
      '/guide/': [{ text: 'Guide', items: guide }],
      '/api/': [{ text: 'API reference', items: apiSidebar() }],
      '/': [
        { text: 'Guide', items: guide },
        { text: 'Demo', link: '/demo' },
      ],
    },
    search: { provider: 'local' },
    outline: [2, 3],
  },
  vite: {
    // core imports the Node-only `webgpu` (Dawn) package with a literal dynamic import that only
    // runs under Node; keep it out of the browser bundle (see demo/dawn-stub.ts).
    resolve: { alias: { webgpu: fileURLToPath(new URL('../demo/dawn-stub.ts', import.meta.url)) } },
    // tfjs' wasm backend loads its .wasm files at run time from public/tfjs-wasm/ (setWasmPaths).
    optimizeDeps: { exclude: ['@tensorflow/tfjs-backend-wasm'] },
    build: { chunkSizeWarningLimit: 4000 },
  },
});
