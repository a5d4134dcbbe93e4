/** Control, format, surrogate, private-use and unassigned code points (Unicode category C). */
const OTHER = /^\p{C}$/u;
/** Space separators (Unicode category Zs). */
const SPACE_SEPARATOR = /^\p{Zs}$/u;

/** The CJK ideograph blocks BERT's tokenizer surrounds with spaces, so that each is a word of its own. */
function isCjkIdeograph(codePoint: number): boolean {
  return (
    (codePoint >= 0x4e00 && codePoint <= 0x9fff) ||
    (codePoint >= 0x3400 && codePoint <= 0x4dbf) ||
    (codePoint >= 0x20000 && codePoint <= 0x2a6df) ||
    (codePoint >= 0x2a700 && codePoint <= 0x2b73f) ||
    (codePoint >= 0x2b740 && codePoint <= 0x2b81f) ||
    (codePoint >= 0x2b820 && codePoint <= 0x2ceaf) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0x2f800 && codePoint <= 0x2fa1f)
  );
}

/**
 * The text preparation of transformers' `CLIPTokenizer` when `ftfy` is not installed (the usual
 * case: transformers and Diffusers do not depend on it), which is BERT's `BasicTokenizer` with
 * lower-casing, no accent stripping and no punctuation splitting:
 * 1. drop NUL, U+FFFD and every category-C code point except tab, newline and carriage return,
 *    and turn those three and every space separator (Zs) into a space;
 * 2. put spaces around CJK ideographs;
 * 3. NFC-normalise;
 * 4. split on whitespace, lower-case each word, join the words with single spaces.
 */
export function cleanClipText(text: string): string {
  let cleaned = '';
  for (const char of text) {
    const codePoint = char.codePointAt(0)!;
    if (char === '\t' || char === '\n' || char === '\r' || char === ' ' || SPACE_SEPARATOR.test(char)) {
      cleaned += ' ';
    } else if (codePoint === 0xfffd || OTHER.test(char)) {
      continue;
    } else if (isCjkIdeograph(codePoint)) {
      cleaned += ` ${char} `;
    } else {
      cleaned += char;
    }
  }
  const words = cleaned.normalize('NFC').trim().split(/\s+/u);
  return words
    .filter((word) => word.length > 0)
    .map((word) => word.toLowerCase())
    .join(' ');
}
