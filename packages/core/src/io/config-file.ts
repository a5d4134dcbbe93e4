import { writeFileAtomic } from './atomic-write.js';
import { formatConfigJson, parseJsonText, type ConfigJson } from './config.js';

/** Reads a `config.json` (Node only). Errors name the file. */
export async function readConfigFile(path: string): Promise<ConfigJson> {
  const { readFile } = await import('node:fs/promises');
  return parseJsonText(await readFile(path, 'utf8'), path);
}

/** Writes a `config.json` atomically (Node only). */
export async function writeConfigFile(path: string, json: ConfigJson): Promise<void> {
  await writeFileAtomic(path, formatConfigJson(json));
}
