/**
 * A look at JSON text before it is parsed: how deep it nests and which keys its top-level object
 * has, found in one pass without recursion, so hostile nesting is refused before any recursive
 * code (a parser in another engine, a validator, an error message) sees it.
 */

/** JSON files this library reads nest at most this deep (Diffusers configs: 3; safetensors headers: 3). */
export const MAX_JSON_DEPTH = 64;

/** What `outlineJson` found. */
export interface JsonOutline {
  /** The deepest nesting of arrays and objects (0 for a scalar), or the first depth beyond the limit. */
  depth: number;
  /** Whether the text nests deeper than the limit (the scan stops there). */
  tooDeep: boolean;
  /** The keys of the top-level object as written, decoded, in order (duplicates kept). */
  topLevelKeys: string[];
}

/**
 * Outlines JSON `text`, stopping as soon as it nests deeper than `maxDepth`. The text is not
 * validated: parse it afterwards (only `JSON.parse` decides whether it is JSON).
 */
export function outlineJson(text: string, maxDepth = MAX_JSON_DEPTH): JsonOutline {
  const topLevelKeys: string[] = [];
  let depth = 0;
  let deepest = 0;
  let topIsObject = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
      if (depth === 1 && topIsObject && isFollowedByColon(text, i + 1)) {
        try {
          topLevelKeys.push(JSON.parse(text.slice(start, i + 1)) as string);
        } catch {
          // Malformed string: JSON.parse of the whole text reports it.
        }
      }
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (depth === 0) topIsObject = c === 0x7b;
      depth++;
      if (depth > deepest) deepest = depth;
      if (depth > maxDepth) return { depth, tooDeep: true, topLevelKeys };
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return { depth: deepest, tooDeep: false, topLevelKeys };
}

function isFollowedByColon(text: string, from: number): boolean {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3a /* : */) return true;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
  }
  return false;
}

/** The first key that appears twice in `keys`, if any. */
export function firstDuplicate(keys: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) return key;
    seen.add(key);
  }
  return undefined;
}
