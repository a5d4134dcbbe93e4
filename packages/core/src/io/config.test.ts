import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, serializeConfig, toCamelCase, toSnakeCase, type ConfigSchema } from './config.js';
import { readConfigFile, writeConfigFile } from './config-file.js';

interface TinyOptions {
  sampleSize: number;
  blockOutChannels: number[];
  downBlockTypes: string[];
  flipSinToCos: boolean;
  normEps: number;
  actFn: string;
  numClassEmbeds: number | null;
}

const SCHEMA: ConfigSchema<TinyOptions> = {
  sampleSize: { kind: 'integer' },
  blockOutChannels: { kind: 'integer[]' },
  downBlockTypes: { kind: 'string[]' },
  flipSinToCos: { kind: 'boolean' },
  normEps: { kind: 'number' },
  actFn: { kind: 'string', values: ['silu', 'gelu'] },
  numClassEmbeds: { kind: 'integer', nullable: true },
};

const DEFAULTS: TinyOptions = {
  sampleSize: 32,
  blockOutChannels: [64],
  downBlockTypes: ['DownBlock2D'],
  flipSinToCos: true,
  normEps: 1e-5,
  actFn: 'silu',
  numClassEmbeds: null,
};

const FIXTURE_CONFIG = new URL('../../../../fixtures/diffusers/unet2d_tiny/config.json', import.meta.url);

describe('config', () => {
  it('converts names both ways', () => {
    expect(toSnakeCase('blockOutChannels')).toBe('block_out_channels');
    expect(toCamelCase('block_out_channels')).toBe('blockOutChannels');
  });

  it('reads a Diffusers config, warning about keys it does not know', async () => {
    const json = await readConfigFile(FIXTURE_CONFIG.pathname);
    const parsed = parseConfig(json, SCHEMA, DEFAULTS, 'unet');
    expect(parsed.className).toBe('UNet2DModel');
    expect(parsed.diffusersVersion).toBe('0.40.0.dev0');
    expect(parsed.options.blockOutChannels).toEqual([32, 64]);
    expect(parsed.options.sampleSize).toBe(16);
    expect(parsed.warnings.some((w) => w.includes("'layers_per_block'"))).toBe(true);
    expect(parsed.unknown.layers_per_block).toBe(1);
  });

  it('accepts camelCase options and fills defaults', () => {
    const parsed = parseConfig({ sampleSize: 8 }, SCHEMA, DEFAULTS);
    expect(parsed.options).toEqual({ ...DEFAULTS, sampleSize: 8 });
    expect(parsed.warnings).toEqual([]);
  });

  it('names the key of a wrongly typed value', () => {
    expect(() => parseConfig({ sample_size: '32' }, SCHEMA, DEFAULTS)).toThrow(/'sample_size' must be an integer/);
    expect(() => parseConfig({ sample_size: 1.5 }, SCHEMA, DEFAULTS)).toThrow(ConfigError);
    expect(() => parseConfig({ block_out_channels: [1, 'a'] }, SCHEMA, DEFAULTS)).toThrow(/'block_out_channels'/);
    expect(() => parseConfig({ act_fn: 'relu' }, SCHEMA, DEFAULTS)).toThrow(/unknown value 'relu'/);
    expect(() => parseConfig({ norm_eps: null }, SCHEMA, DEFAULTS)).toThrow(/must not be null/);
    expect(() => parseConfig([], SCHEMA, DEFAULTS)).toThrow(/JSON object/);
    expect(parseConfig({ num_class_embeds: null }, SCHEMA, DEFAULTS).options.numClassEmbeds).toBeNull();
  });

  it('writes what Diffusers writes: snake_case keys of the same types', async () => {
    const fixture = await readConfigFile(FIXTURE_CONFIG.pathname);
    const parsed = parseConfig(fixture, SCHEMA, DEFAULTS);
    const written = serializeConfig(parsed.options, SCHEMA, 'UNet2DModel');
    expect(Object.keys(written).slice(0, 2)).toEqual(['_class_name', '_diffusers_version']);
    for (const [key, value] of Object.entries(written)) {
      if (key.startsWith('_')) continue;
      expect(fixture).toHaveProperty(key);
      expect(typeof value).toBe(typeof fixture[key]);
      expect(value).toEqual(fixture[key]);
    }
  });

  it('writes atomically and keeps the old file when the write fails', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'config-'));
    try {
      const path = join(folder, 'config.json');
      await writeConfigFile(path, { _class_name: 'A', value: 1 });
      expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ _class_name: 'A', value: 1 });
      const unserialisable = { value: 10n } as unknown as Record<string, never>;
      await expect(writeConfigFile(path, unserialisable)).rejects.toThrow(/BigInt/);
      expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ _class_name: 'A', value: 1 });
      await writeFile(join(folder, 'blocker'), 'x');
      await expect(writeConfigFile(join(folder, 'blocker', 'config.json'), { value: 2 })).rejects.toThrow();
      expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ _class_name: 'A', value: 1 });
      await writeFile(path, '{broken');
      await expect(readConfigFile(path)).rejects.toThrow(/invalid JSON/);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
