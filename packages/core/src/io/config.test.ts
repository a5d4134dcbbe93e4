import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DIFFUSERS_VERSION,
  formatConfigJson,
  parseConfig,
  parseJsonText,
  serializeConfig,
  toCamelCase,
  toSnakeCase,
  type ConfigJson,
  type ConfigSchema,
} from './config.js';
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
const FIXTURE_TEXT = readFileSync(FIXTURE_CONFIG, 'utf8');

/** Every key of Diffusers' UNet2DModel config, typed as Diffusers declares it. */
interface UnetOptions {
  actFn: string;
  addAttention: boolean;
  attentionHeadDim: number | null;
  attnNormNumGroups: number | null;
  blockOutChannels: number[];
  centerInputSample: boolean;
  classEmbedType: string | null;
  downBlockTypes: string[];
  downsamplePadding: number;
  downsampleType: string;
  dropout: number;
  flipSinToCos: boolean;
  freqShift: number;
  inChannels: number;
  layersPerBlock: number;
  midBlockScaleFactor: number;
  midBlockType: string | null;
  normEps: number;
  normNumGroups: number;
  numClassEmbeds: number | null;
  numTrainTimesteps: number | null;
  outChannels: number;
  resnetTimeScaleShift: string;
  sampleSize: number | null;
  timeEmbeddingDim: number | null;
  timeEmbeddingType: string;
  upBlockTypes: string[];
  upsampleType: string;
}

const UNET_SCHEMA: ConfigSchema<UnetOptions> = {
  actFn: { kind: 'string' },
  addAttention: { kind: 'boolean' },
  attentionHeadDim: { kind: 'integer', nullable: true },
  attnNormNumGroups: { kind: 'integer', nullable: true },
  blockOutChannels: { kind: 'integer[]' },
  centerInputSample: { kind: 'boolean' },
  classEmbedType: { kind: 'string', nullable: true },
  downBlockTypes: { kind: 'string[]' },
  downsamplePadding: { kind: 'integer' },
  downsampleType: { kind: 'string' },
  dropout: { kind: 'number' },
  flipSinToCos: { kind: 'boolean' },
  freqShift: { kind: 'integer' },
  inChannels: { kind: 'integer' },
  layersPerBlock: { kind: 'integer' },
  // Annotated `float` in Diffusers, but its default is the int literal 1, which is what it writes.
  midBlockScaleFactor: { kind: 'integer' },
  midBlockType: { kind: 'string', nullable: true },
  normEps: { kind: 'number' },
  normNumGroups: { kind: 'integer' },
  numClassEmbeds: { kind: 'integer', nullable: true },
  numTrainTimesteps: { kind: 'integer', nullable: true },
  outChannels: { kind: 'integer' },
  resnetTimeScaleShift: { kind: 'string' },
  sampleSize: { kind: 'integer', nullable: true },
  timeEmbeddingDim: { kind: 'integer', nullable: true },
  timeEmbeddingType: { kind: 'string' },
  upBlockTypes: { kind: 'string[]' },
  upsampleType: { kind: 'string' },
};

const UNET_DEFAULTS: UnetOptions = {
  actFn: 'silu',
  addAttention: true,
  attentionHeadDim: 8,
  attnNormNumGroups: null,
  blockOutChannels: [224, 448, 672, 896],
  centerInputSample: false,
  classEmbedType: null,
  downBlockTypes: ['DownBlock2D', 'AttnDownBlock2D', 'AttnDownBlock2D', 'AttnDownBlock2D'],
  downsamplePadding: 1,
  downsampleType: 'conv',
  dropout: 0,
  flipSinToCos: true,
  freqShift: 0,
  inChannels: 3,
  layersPerBlock: 2,
  midBlockScaleFactor: 1,
  midBlockType: 'UNetMidBlock2D',
  normEps: 1e-5,
  normNumGroups: 32,
  numClassEmbeds: null,
  numTrainTimesteps: null,
  outChannels: 3,
  resnetTimeScaleShift: 'default',
  sampleSize: null,
  timeEmbeddingDim: null,
  timeEmbeddingType: 'positional',
  upBlockTypes: ['AttnUpBlock2D', 'AttnUpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'],
  upsampleType: 'conv',
};

/** The Python type `json.loads` gives each top-level value of a two-space-indented config text. */
function pythonTypes(text: string): ConfigJson {
  const types: ConfigJson = {};
  for (const match of text.matchAll(/^ {2}"([^"]+)": (.*?),?$/gm)) {
    const token = match[2];
    types[match[1]] =
      token === 'null'
        ? 'None'
        : token === 'true' || token === 'false'
          ? 'bool'
          : token.startsWith('"')
            ? 'str'
            : token.startsWith('[')
              ? 'list'
              : token.startsWith('{')
                ? 'dict'
                : /[.eE]/.test(token)
                  ? 'float'
                  : 'int';
  }
  return types;
}

describe('config', () => {
  it('converts names both ways', () => {
    expect(toSnakeCase('blockOutChannels')).toBe('block_out_channels');
    expect(toCamelCase('block_out_channels')).toBe('blockOutChannels');
    // Any snake_case key of lowercase words round-trips (keys with `_<digit>` need a `key` override).
    const word = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/);
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 5 }), (words) => {
        const snake = words.join('_');
        expect(toSnakeCase(toCamelCase(snake))).toBe(snake);
      }),
      { numRuns: 500, seed: 7 },
    );
    for (const key of Object.keys(parseJsonText(FIXTURE_TEXT, 'fixture'))) {
      if (!key.startsWith('_')) expect(toSnakeCase(toCamelCase(key))).toBe(key);
    }
  });

  it('round-trips options through serializeConfig and parseConfig', () => {
    const options: TinyOptions = { ...DEFAULTS, sampleSize: 64, blockOutChannels: [8, 16], normEps: 1e-6, numClassEmbeds: 10 };
    const json = serializeConfig(options, SCHEMA, 'Tiny', { extra_key: 'kept' });
    expect(json).toMatchObject({ _class_name: 'Tiny', _diffusers_version: DIFFUSERS_VERSION, sample_size: 64, extra_key: 'kept' });
    expect(Object.keys(json).every((key) => key === toSnakeCase(key))).toBe(true);
    const back = parseConfig(parseJsonText(formatConfigJson(json), 'written'), SCHEMA, DEFAULTS);
    expect(back.options).toEqual(options);
    expect(back.className).toBe('Tiny');
    expect(back.diffusersVersion).toBe(DIFFUSERS_VERSION);
    expect(back.unknown).toEqual({ extra_key: 'kept' });
    expect(back.warnings).toEqual(["config: unknown config key 'extra_key' was not used"]);
  });

  it('treats underscore keys as metadata', () => {
    const parsed = parseConfig({ _class_name: 'X', _name_or_path: 'somewhere', _diffusers_version: '0.1.0' }, SCHEMA, DEFAULTS);
    expect(parsed).toMatchObject({ className: 'X', diffusersVersion: '0.1.0', warnings: [], unknown: {} });
    expect(() => parseConfig({ _class_name: 3 }, SCHEMA, DEFAULTS)).toThrow(/'_class_name' must be a string/);
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

  it('refuses numbers outside a field range, naming the key and the range', () => {
    type Ranged = { ratio: number; count: number; offset: number; betas: number[] };
    const schema: ConfigSchema<Ranged> = {
      ratio: { kind: 'number', range: { min: 0, minExclusive: true, max: 1 } },
      count: { kind: 'integer', range: { min: 1, max: 1000 } },
      offset: { kind: 'integer', range: { min: 0 } },
      betas: { kind: 'number[]', range: { min: 0, max: 1, minExclusive: true, maxExclusive: true } },
    };
    const defaults: Ranged = { ratio: 0.5, count: 10, offset: 0, betas: [0.1] };
    const parse = (json: object) => parseConfig(json, schema, defaults, 'Test');
    expect(parse({ ratio: 1, count: 1000, offset: 7, betas: [0.5, 0.9] }).options).toEqual({
      ratio: 1,
      count: 1000,
      offset: 7,
      betas: [0.5, 0.9],
    });
    expect(() => parse({ ratio: 0 })).toThrow("Test: config key 'ratio' must lie in (0, 1], got 0");
    expect(() => parse({ count: 1e8 })).toThrow("Test: config key 'count' must lie in [1, 1000], got 100000000");
    expect(() => parse({ offset: -5 })).toThrow("Test: config key 'offset' must be >= 0, got -5");
    expect(() => parse({ betas: [0.5, 1.5] })).toThrow("Test: config key 'betas' must hold values in (0, 1), got 1.5 at index 1");
    const error = (() => {
      try {
        parse({ count: 0 });
      } catch (caught) {
        return caught as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.key).toBe('count');
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

  it('writes the fixture back byte for byte, as Diffusers wrote it (keys, order, value types)', () => {
    const fixture = parseJsonText(FIXTURE_TEXT, 'fixture');
    const parsed = parseConfig(fixture, UNET_SCHEMA, UNET_DEFAULTS, 'unet');
    expect(parsed.warnings).toEqual([]);
    const written = formatConfigJson(serializeConfig(parsed.options, UNET_SCHEMA, 'UNet2DModel', { _diffusers_version: '0.40.0.dev0' }));
    expect(written).toBe(FIXTURE_TEXT);
    expect(pythonTypes(written)).toEqual(pythonTypes(FIXTURE_TEXT));
    expect(pythonTypes(written).dropout).toBe('float');
  });

  it('formats numbers and strings as Python json.dumps does', () => {
    const schema: ConfigSchema<{ value: number; list: number[]; count: number; name: string }> = {
      value: { kind: 'number' },
      list: { kind: 'number[]' },
      count: { kind: 'integer' },
      name: { kind: 'string' },
    };
    const format = (value: number) => {
      const text = formatConfigJson(serializeConfig({ value, list: [], count: 1, name: '' }, schema, 'X'));
      return /"value": (.*)$/m.exec(text)![1];
    };
    // Expected strings are Python 3.11's repr() of the same doubles.
    const cases: [number, string][] = [
      [0, '0.0'],
      [1, '1.0'],
      [-2, '-2.0'],
      [1e-5, '1e-05'],
      [0.0001, '0.0001'],
      [0.00012, '0.00012'],
      [1e16, '1e+16'],
      [1.5e16, '1.5e+16'],
      [9999999999999998, '9999999999999998.0'],
      [123456.789, '123456.789'],
      [0.1, '0.1'],
      [1 / 3, '0.3333333333333333'],
      [2.5e-300, '2.5e-300'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
      [-0.00085, '-0.00085'],
      [0.012, '0.012'],
      [5e-324, '5e-324'],
      [100, '100.0'],
      [1e22, '1e+22'],
    ];
    for (const [value, expected] of cases) expect(format(value)).toBe(expected);
    const text = formatConfigJson(
      serializeConfig({ value: 0.5, list: [1, 2.5], count: 3, name: 'é✓' }, schema, 'X', { b: { z: 1, y: [] }, a: {} }),
    );
    expect(text).toContain('"list": [\n    1.0,\n    2.5\n  ]');
    expect(text).toContain('"count": 3,');
    expect(text).toContain('"name": "\\u00e9\\u2713"');
    expect(text).toContain('"a": {},\n  "b": {\n    "y": [],\n    "z": 1\n  }');
    expect(parseJsonText(text, 'x')).toMatchObject({ name: 'é✓', list: [1, 2.5] });
    // Plain objects (not from serializeConfig) keep integers as integers.
    expect(formatConfigJson({ x: 1, y: 0.5 })).toBe('{\n  "x": 1,\n  "y": 0.5\n}\n');
  });

  it("reads and writes Python's NaN, Infinity and -Infinity (Diffusers' configs carry them)", () => {
    // Expected text: Python 3.11's json.dumps({...}, indent=2, sort_keys=True) of the same values.
    const python = '{\n  "b": NaN,\n  "c": [\n    Infinity,\n    1.0\n  ],\n  "lambda_min_clipped": -Infinity\n}';
    const read = parseJsonText(python, 'x');
    expect(read.lambda_min_clipped).toBe(-Infinity);
    expect(read.b).toBeNaN();
    expect(read.c).toEqual([Infinity, 1]);
    const schema: ConfigSchema<{ c: number[] }> = { c: { kind: 'number[]' } };
    const written = formatConfigJson(serializeConfig({ c: [Infinity, 1] }, schema, 'X', { b: NaN, lambda_min_clipped: -Infinity }));
    expect(written).toBe(`{\n  "_class_name": "X",\n  "_diffusers_version": "${DIFFUSERS_VERSION}",\n${python.slice(2)}\n`);
    expect(parseJsonText(written, 'x').lambda_min_clipped).toBe(-Infinity);
    // Only tokens outside strings are numbers; strings that spell them stay strings.
    const strings = parseJsonText('{"NaN": "Infinity", "x": "-Infinity \\" NaN", "y": [NaN, "NaN"]}', 'x');
    expect(strings).toEqual({ NaN: 'Infinity', x: '-Infinity " NaN', y: [NaN, 'NaN'] });
    // Anything else that is not JSON still fails, with the parser's own message.
    for (const bad of [
      '{"a": NaNa}',
      '{"a": Infinit}',
      '{"a": -Inf}',
      '{"a": nan}',
      '{"a": inf}',
      '{"a": +Infinity}',
      'NaN',
      '{"a": NaN',
    ]) {
      expect(() => parseJsonText(bad, 'bad.json')).toThrow(ConfigError);
      expect(() => parseJsonText(bad, 'bad.json')).toThrow(/^bad\.json: (invalid JSON|expected a JSON object)/);
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
      expect(await readdir(folder)).toEqual(['blocker', 'config.json']);
      await writeFile(path, '{broken');
      await expect(readConfigFile(path)).rejects.toThrow(/invalid JSON/);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});

describe('config ranges and hostile values (issue 17)', () => {
  interface Ranged {
    layers: number;
    eps: number;
    widths: number[];
    any: unknown;
  }
  const RANGED: ConfigSchema<Ranged> = {
    layers: { kind: 'integer', range: { min: 1, max: 32 } },
    eps: { kind: 'number', range: { min: 0, minExclusive: true, max: 1 } },
    widths: { kind: 'integer[]', range: { min: 1, max: 16384 } },
    any: { kind: 'json' },
  };
  const DEFAULTS: Ranged = { layers: 2, eps: 1e-5, widths: [32], any: null };

  it('refuses numbers outside the range with a ConfigError naming the key and the range', () => {
    const fail = (json: object) => () => parseConfig(json, RANGED, DEFAULTS, 'Tiny');
    expect(fail({ layers: 1e6 })).toThrow("Tiny: config key 'layers' must lie in [1, 32], got 1000000");
    expect(fail({ layers: 0 })).toThrow(/\[1, 32\]/);
    expect(fail({ eps: -1 })).toThrow("Tiny: config key 'eps' must lie in (0, 1], got -1");
    expect(fail({ eps: 0 })).toThrow(ConfigError);
    expect(fail({ widths: [32, 1e9] })).toThrow("Tiny: config key 'widths' must hold values in [1, 16384], got 1000000000 at index 1");
    expect(parseConfig({ layers: 32, eps: 1, widths: [1, 16384] }, RANGED, DEFAULTS).options.layers).toBe(32);
    try {
      fail({ layers: 33 })();
    } catch (error) {
      expect((error as ConfigError).key).toBe('layers');
    }
  });

  it('builds error messages for deeply nested values without overflowing the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    let nested: unknown = 1;
    for (let i = 0; i < 200_000; i++) nested = { a: nested };
    expect(() => parseConfig({ layers: nested }, RANGED, DEFAULTS)).toThrow(ConfigError);
    expect(() => parseConfig({ eps: deep }, RANGED, DEFAULTS)).toThrow(ConfigError);
    expect(() => parseConfig({ widths: deep }, RANGED, DEFAULTS)).toThrow(ConfigError);
    const message = (() => {
      try {
        parseConfig({ layers: nested }, RANGED, DEFAULTS);
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    expect(message.length).toBeLessThan(200);
  });

  it('refuses JSON text nested deeper than 64 levels', () => {
    const deep = `{"a": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    expect(() => parseJsonText(deep, 'config.json')).toThrow('config.json: JSON nests deeper than 64 levels');
    expect(parseJsonText(`{"a": ${'['.repeat(10)}${']'.repeat(10)}}`, 'config.json').a).toEqual([[[[[[[[[[]]]]]]]]]]);
  });
});
