/**
 * Path helpers that need no Node module, for synchronous code that also runs in browsers
 * (code that touches the file system imports `node:path` lazily instead).
 */

/**
 * Joins path segments with `/` (which Node accepts on every platform), dropping empty segments
 * and the separators at the joints: `joinPath('runs/mnist/', 'checkpoint')` is `runs/mnist/checkpoint`.
 */
export function joinPath(...segments: string[]): string {
  const parts = segments.filter((segment) => segment !== '');
  return parts
    .map((part, i) => {
      let trimmed = i < parts.length - 1 ? part.replace(/[\\/]+$/, '') : part;
      if (i > 0) trimmed = trimmed.replace(/^[\\/]+/, '');
      return i === 0 && trimmed === '' ? '' : trimmed;
    })
    .join('/');
}

/** The extension of a file name or path, with its dot, as Node's `extname` gives it (`''` for none or a dot file). */
export function fileExtension(path: string): string {
  const name = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
  const dot = name.lastIndexOf('.');
  return dot <= 0 || name === '..' ? '' : name.slice(dot);
}
