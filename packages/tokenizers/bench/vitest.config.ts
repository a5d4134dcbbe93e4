import { packageBenchConfig } from '../../../vitest.shared';

/** Runs only the benchmark files, one at a time, with `global.gc` exposed for the memory figures. */
export default packageBenchConfig(import.meta.url, { execArgv: ['--expose-gc'] });
