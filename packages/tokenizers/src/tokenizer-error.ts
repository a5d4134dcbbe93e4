/** A tokenizer file that cannot be used (missing, corrupt, inconsistent) or an input it cannot take. */
export class TokenizerError extends Error {
  constructor(
    message: string,
    /** The file at fault (`vocab.json`, `merges.txt`, ...), when there is one. */
    readonly file?: string,
  ) {
    super(message);
    this.name = 'TokenizerError';
  }
}
