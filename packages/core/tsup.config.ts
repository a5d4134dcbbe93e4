import { packageBuild } from '../../tsup.shared';

export default packageBuild({
  entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
  noExternal: [
    // tfjs-core's gradient registrations are extensionless ESM: bundle them (see register-gradients.ts).
    /^@tensorflow\/tfjs-core\/dist\//,
    // The fused kernels' names, owned by @diffusion-ts/native: built in, since that package is only
    // an optional peer (its types are imported as types only and never reach core's declarations).
    /^@diffusion-ts\/native\/fused-kernels$/,
  ],
});
