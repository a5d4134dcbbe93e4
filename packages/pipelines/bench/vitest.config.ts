import { packageBenchConfig } from '../../../vitest.shared';

/** The Stable Diffusion benchmark: an hour's timeout for the SD 1.5 row (one run took 916 s on the shared machine). */
export default packageBenchConfig(import.meta.url, { timeoutMs: 3_600_000 });
