/**
 * A short JSON excerpt of any value for an error message: bounded in length and depth, so a
 * huge or deeply nested value (from a hostile file) can neither overflow the stack nor flood the
 * message. Strings, numbers, booleans and null read as in JSON; cycles and non-JSON values are
 * shown by their type.
 */
export function previewJson(value: unknown, maxLength = 60): string {
  const parts: string[] = [];
  let length = 0;
  const push = (text: string): boolean => {
    parts.push(text);
    length += text.length;
    return length <= maxLength;
  };
  const seen = new Set<object>();
  // Depth-limited recursion: at most MAX_PREVIEW_DEPTH frames whatever the value.
  const visit = (item: unknown, depth: number): boolean => {
    if (item === null || typeof item === 'boolean') return push(String(item));
    if (typeof item === 'number') return push(Number.isFinite(item) ? JSON.stringify(item) : String(item));
    if (typeof item === 'string') return push(JSON.stringify(item.length > maxLength ? item.slice(0, maxLength) : item));
    if (typeof item === 'bigint') return push(`${item}n`);
    if (typeof item !== 'object') return push(typeof item);
    if (depth >= MAX_PREVIEW_DEPTH || seen.has(item)) return push(Array.isArray(item) ? '[...]' : '{...}');
    seen.add(item);
    const isArray = Array.isArray(item);
    if (!push(isArray ? '[' : '{')) return false;
    const keys = isArray ? null : Object.keys(item);
    const count = isArray ? (item as unknown[]).length : keys!.length;
    for (let i = 0; i < count; i++) {
      if (i > 0 && !push(',')) return false;
      if (keys !== null && !push(`${JSON.stringify(keys[i])}:`)) return false;
      const child = keys === null ? (item as unknown[])[i] : (item as Record<string, unknown>)[keys[i]];
      if (!visit(child, depth + 1)) return false;
    }
    seen.delete(item);
    return push(isArray ? ']' : '}');
  };
  const complete = visit(value, 0);
  const text = parts.join('');
  return complete && text.length <= maxLength ? text : `${text.slice(0, Math.max(maxLength - 3, 0))}...`;
}

const MAX_PREVIEW_DEPTH = 16;

/** `text` cut to `maxLength` characters (ending in `...` when cut), for names and values quoted in error messages. */
export function truncateText(text: string, maxLength = 60): string {
  return text.length > maxLength ? `${text.slice(0, Math.max(maxLength - 3, 0))}...` : text;
}
