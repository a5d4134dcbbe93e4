/** What went wrong with a backend request. */
export type BackendFault = 'unknown-backend' | 'unavailable' | 'missing-package' | 'init-failed' | 'cannot-train' | 'insufficient-memory';

/**
 * The error every backend function throws: `backend` is the name asked for, `fault` says what
 * went wrong, and for a missing optional package `packageName` names what to install. Work too
 * large for the backend (`insufficient-memory`) is refused with it before anything is allocated.
 */
export class BackendError extends Error {
  readonly backend: string;
  readonly fault: BackendFault;
  readonly packageName?: string;

  constructor(backend: string, fault: BackendFault, message: string, packageName?: string) {
    super(message);
    this.name = 'BackendError';
    this.backend = backend;
    this.fault = fault;
    this.packageName = packageName;
  }
}

/**
 * Runs `load` (a dynamic import of an optional package; a literal specifier, so that bundlers see
 * it), turning a failure into a `BackendError` that names the package and how to install it.
 */
export async function importBackendPackage<T>(backend: string, packageName: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new BackendError(
      backend,
      'missing-package',
      `The ${backend} backend needs the optional package ${packageName}, which could not be loaded (${detail}). ` +
        `Install it with: npm i ${packageName}`,
      packageName,
    );
  }
}
