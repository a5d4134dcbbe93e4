import { LoadError } from './load-error.js';

/**
 * Decodes and normalises `file`, a path relative to a model folder or base URL (`unet`,
 * `scheduler/scheduler_config.json`, `./unet/`), into its segments. Refused with a `LoadError`
 * (`unsafe-path`) is anything that could name something outside the base or change a request:
 * `..` in any spelling (`%2e%2e`, `..%2f`, backslashes), absolute paths and drive letters, a
 * query or fragment (`?`, `#`), percent signs left after decoding (double encoding), colons and
 * control characters. `base` only names the source in the error.
 */
export function relativeSegments(file: string, base: string): string[] {
  const refuse = (why: string): never => {
    throw new LoadError('unsafe-path', `${base}/${file}`, `'${file}' ${why}`);
  };
  if (typeof file !== 'string') throw new TypeError(`expected a relative path, got ${typeof file}`);
  if (/[?#]/.test(file)) refuse('carries a query or fragment (? or #)');
  let decoded: string;
  try {
    decoded = decodeURIComponent(file);
  } catch {
    return refuse('has malformed percent-encoding');
  }
  // Control characters (NUL included) and, after decoding, what encoding could have smuggled in.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(decoded)) refuse('contains control characters');
  if (/[?#]/.test(decoded)) refuse('carries an encoded query or fragment');
  if (decoded.includes('%')) refuse('is percent-encoded twice');
  if (/^[\\/]/.test(decoded)) refuse('must be a relative path inside the model folder');
  const segments = decoded.split(/[\\/]+/).filter((segment) => segment !== '' && segment !== '.');
  for (const segment of segments) {
    if (segment === '..') refuse('must be a relative path inside the model folder (no ..)');
    if (segment.includes(':')) refuse('must be a relative path inside the model folder (no drive letters or schemes)');
  }
  return segments;
}
