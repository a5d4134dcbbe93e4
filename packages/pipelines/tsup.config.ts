import { packageBuild } from '../../tsup.shared';

export default packageBuild({
  entry: ['src/index.ts', 'src/cli.ts', 'src/demo.ts'],
  // The CLI and the demo are programs: declarations for the library entry only.
  dts: { entry: 'src/index.ts' },
});
