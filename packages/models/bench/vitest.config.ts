import { packageBenchConfig } from '../../../vitest.shared';

/** Runs only the benchmark files, one at a time. */
export default packageBenchConfig(import.meta.url);
