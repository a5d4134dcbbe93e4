import { packageBuild } from '../../tsup.shared';

export default packageBuild({
  // addon: the loader alone (no tfjs), which the install script uses to see whether a binary fits;
  // fused-kernels: the kernel contract core builds in.
  entry: { index: 'src/index.ts', addon: 'src/addon.ts', 'fused-kernels': 'src/fused-kernels.ts' },
  dts: { entry: { index: 'src/index.ts', 'fused-kernels': 'src/fused-kernels.ts' } },
});
