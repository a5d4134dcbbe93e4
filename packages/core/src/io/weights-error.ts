/**
 * The error for weights: a weights file that is malformed (its subclass `SafetensorsError`) or
 * whose tensors do not fit the model (`missing`, `mismatched` and, when loading strictly,
 * `unexpected` list the names). Catch this one class for every weights problem.
 */
export class WeightsError extends Error {
  /** Parameter names the file lacks. */
  readonly missing: string[];
  /** `name: expected [..], got [..]` for each parameter of the wrong shape. */
  readonly mismatched: string[];
  /** Names in the file that the model does not use (an error only in strict loading). */
  readonly unexpected: string[];

  constructor(message: string, missing: string[] = [], mismatched: string[] = [], unexpected: string[] = []) {
    super(message);
    this.name = 'WeightsError';
    this.missing = missing;
    this.mismatched = mismatched;
    this.unexpected = unexpected;
  }
}
