/**
 * Diffusers-style `config.json` handling: snake_case JSON keys with `_class_name` and
 * `_diffusers_version` on disk, camelCase typed options in TypeScript.
 */

import { MAX_JSON_DEPTH, outlineJson } from './json-outline.js';
import { previewJson, truncateText } from './json-preview.js';

/** A JSON value as it appears in a config file. */
export type ConfigValue = number | string | boolean | null | ConfigValue[] | { [key: string]: ConfigValue };

/** A config object as stored on disk (snake_case keys). */
export type ConfigJson = Record<string, ConfigValue>;

/** The JSON type a config field must have. `json` accepts any value. */
export type ConfigFieldKind = 'number' | 'integer' | 'boolean' | 'string' | 'number[]' | 'integer[]' | 'string[]' | 'json';

/** The accepted values of a number option: inclusive bounds unless marked exclusive; a missing bound is open. */
export interface ConfigRange {
  /** The smallest accepted value. */
  min?: number;
  /** The largest accepted value. */
  max?: number;
  /** `min` itself is refused (e.g. `norm_eps` must be > 0). */
  minExclusive?: boolean;
  /** `max` itself is refused. */
  maxExclusive?: boolean;
}

/** Whether `value` lies in `range`. */
export function inConfigRange(value: number, range: ConfigRange): boolean {
  const { min, max, minExclusive, maxExclusive } = range;
  if (min !== undefined && (minExclusive ? !(value > min) : !(value >= min))) return false;
  if (max !== undefined && (maxExclusive ? !(value < max) : !(value <= max))) return false;
  return true;
}

/**
 * `range` as the words that follow a value in a message: `in [1, 32]`, `in (0, 1]` when both
 * ends are bounded, `>= 0`, `> 0`, `<= 1` when one is (so `an integer in [1, 32]`,
 * `values >= 0`).
 */
export function formatConfigRange(range: ConfigRange): string {
  const { min, max } = range;
  if (min !== undefined && max !== undefined) {
    return `in ${range.minExclusive ? '(' : '['}${min}, ${max}${range.maxExclusive ? ')' : ']'}`;
  }
  if (min !== undefined) return `${range.minExclusive ? '>' : '>='} ${min}`;
  if (max !== undefined) return `${range.maxExclusive ? '<' : '<='} ${max}`;
  return 'in (-∞, ∞)';
}

/** How one option is validated and named on disk. */
export interface ConfigFieldSpec {
  /** The value's JSON type. */
  kind: ConfigFieldKind;
  /** Whether `null` is accepted. */
  nullable?: boolean;
  /** For strings (and string arrays): the accepted values. */
  values?: readonly string[];
  /** The snake_case key on disk, when it is not the plain conversion of the option name. */
  key?: string;
  /** For numbers and integers (and arrays of them): the accepted range. */
  range?: ConfigRange;
}

/** One field spec per option of `T`. */
export type ConfigSchema<T> = { readonly [K in keyof T]-?: ConfigFieldSpec };

/** The result of parsing a config: typed options plus what was not understood. */
export interface ParsedConfig<T> {
  /** Defaults overlaid with the values found. */
  options: T;
  /** `_class_name`, when present. */
  className?: string;
  /** `_diffusers_version`, when present. */
  diffusersVersion?: string;
  /** One message per key that was not recognised (never silently dropped). */
  warnings: string[];
  /** The unknown keys with their values, so that they survive a round trip. */
  unknown: ConfigJson;
}

/** A config value of the wrong type, or a config that is not an object. */
export class ConfigError extends Error {
  /** The offending key, when there is one. */
  readonly key?: string;
  constructor(message: string, key?: string) {
    super(message);
    this.name = 'ConfigError';
    this.key = key;
  }
}

/** `betaSchedule` -> `beta_schedule`. */
export function toSnakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** `beta_schedule` -> `betaSchedule`. */
export function toCamelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return `a ${typeof value} (${previewJson(value, 40)})`;
}

function checkScalar(kind: 'number' | 'integer' | 'boolean' | 'string', value: unknown): value is number | boolean | string {
  switch (kind) {
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string';
  }
}

/** Throws unless every number of `value` (a number or number array) lies in the field's range. */
function checkRange(key: string, range: ConfigRange, value: number | number[], context: string): void {
  const wanted = formatConfigRange(range);
  if (Array.isArray(value)) {
    const index = value.findIndex((item) => !inConfigRange(item, range));
    if (index < 0) return;
    throw new ConfigError(`${context}: config key '${key}' must hold values ${wanted}, got ${String(value[index])} at index ${index}`, key);
  }
  if (inConfigRange(value, range)) return;
  const verb = wanted.startsWith('in ') ? 'lie' : 'be';
  throw new ConfigError(`${context}: config key '${key}' must ${verb} ${wanted}, got ${String(value)}`, key);
}

function validateField(key: string, spec: ConfigFieldSpec, value: unknown, context: string): unknown {
  if (value === null || value === undefined) {
    if (spec.nullable) return null;
    throw new ConfigError(`${context}: config key '${key}' must not be null`, key);
  }
  if (spec.kind === 'json') return value;
  if (spec.kind.endsWith('[]')) {
    const itemKind = spec.kind.slice(0, -2) as 'number' | 'integer' | 'string';
    // Diffusers writes tuples as JSON arrays; accept them as arrays.
    if (!Array.isArray(value) || !value.every((item) => checkScalar(itemKind, item))) {
      throw new ConfigError(`${context}: config key '${key}' must be an array of ${itemKind}s, got ${describe(value)}`, key);
    }
    if (spec.values) {
      const bad = (value as string[]).find((item) => !spec.values!.includes(item));
      if (bad !== undefined) {
        throw new ConfigError(
          `${context}: config key '${key}' has unknown value '${truncateText(bad)}' (expected one of ${spec.values.join(', ')})`,
          key,
        );
      }
    }
    if (spec.range && itemKind !== 'string') checkRange(key, spec.range, value as number[], context);
    return [...(value as unknown[])];
  }
  const kind = spec.kind as 'number' | 'integer' | 'boolean' | 'string';
  if (!checkScalar(kind, value)) {
    throw new ConfigError(
      `${context}: config key '${key}' must be ${kind === 'integer' ? 'an integer' : `a ${kind}`}, got ${describe(value)}`,
      key,
    );
  }
  if (spec.values && !spec.values.includes(value as string)) {
    throw new ConfigError(
      `${context}: config key '${key}' has unknown value '${truncateText(String(value))}' (expected one of ${spec.values.join(', ')})`,
      key,
    );
  }
  if (spec.range && (kind === 'number' || kind === 'integer')) checkRange(key, spec.range, value as number, context);
  return value;
}

/**
 * Parses a Diffusers config object (snake_case keys) or our own options object (camelCase keys)
 * into typed options. Unknown keys become warnings; values of the wrong type throw a
 * `ConfigError` that names the key. Keys starting with `_` are metadata and never warned about.
 */
export function parseConfig<T extends object>(json: unknown, schema: ConfigSchema<T>, defaults: T, context = 'config'): ParsedConfig<T> {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ConfigError(`${context}: expected a JSON object, got ${describe(json)}`);
  }
  const byKey = new Map<string, keyof T>();
  for (const option of Object.keys(schema) as (keyof T & string)[]) {
    const spec = schema[option];
    byKey.set(option, option);
    byKey.set(spec.key ?? toSnakeCase(option), option);
  }
  const options = { ...defaults } as Record<keyof T, unknown>;
  const warnings: string[] = [];
  const unknown: ConfigJson = {};
  let className: string | undefined;
  let diffusersVersion: string | undefined;
  for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
    if (key === '_class_name') {
      if (typeof value !== 'string') throw new ConfigError(`${context}: '_class_name' must be a string`, key);
      className = value;
      continue;
    }
    if (key === '_diffusers_version') {
      if (typeof value === 'string') diffusersVersion = value;
      continue;
    }
    if (key.startsWith('_')) continue;
    const option = byKey.get(key);
    if (option === undefined) {
      warnings.push(`${context}: unknown config key '${key}' was not used`);
      unknown[key] = value as ConfigValue;
      continue;
    }
    if (value === undefined) continue;
    options[option] = validateField(key, schema[option], value, context);
  }
  return { options: options as T, className, diffusersVersion, warnings, unknown };
}

/** The `_diffusers_version` we write: the Diffusers release whose formats we follow. */
export const DIFFUSERS_VERSION = '0.40.0';

/**
 * Serialises typed options to a Diffusers config object: `_class_name`, `_diffusers_version`,
 * then every option under its snake_case key, in schema order.
 */
export function serializeConfig<T extends object>(
  options: T,
  schema: ConfigSchema<T>,
  className: string,
  extra: ConfigJson = {},
): ConfigJson {
  const json: ConfigJson = { _class_name: className, _diffusers_version: DIFFUSERS_VERSION };
  const floatKeys = new Set<string>();
  for (const option of Object.keys(schema) as (keyof T & string)[]) {
    const value = (options as Record<string, unknown>)[option];
    const key = schema[option].key ?? toSnakeCase(option);
    json[key] = (value === undefined ? null : value) as ConfigValue;
    if (schema[option].kind === 'number' || schema[option].kind === 'number[]') floatKeys.add(key);
  }
  const result = { ...json, ...extra };
  FLOAT_KEYS.set(result, floatKeys);
  return result;
}

/**
 * The keys of each object returned by `serializeConfig` whose schema kind is `number`: their
 * integral values are written as Python floats (`0.0`), as Diffusers writes them.
 */
const FLOAT_KEYS = new WeakMap<object, ReadonlySet<string>>();

/**
 * Parses JSON text, naming the source in the error when it is not valid JSON or nests deeper than
 * 64 levels (checked first, without recursion). Python's `json` (which writes Diffusers' configs)
 * spells non-finite floats `NaN`, `Infinity` and `-Infinity` (e.g. DPM-Solver's
 * `"lambda_min_clipped": -Infinity`): those tokens are read too, outside strings.
 */
export function parseJsonText(text: string, source: string): ConfigJson {
  if (outlineJson(text).tooDeep) throw new ConfigError(`${source}: JSON nests deeper than ${MAX_JSON_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    value = parsePythonJson(text, error as Error, source);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`${source}: expected a JSON object at the top level`);
  }
  return value as ConfigJson;
}

/** Python's spellings of the non-finite floats. */
const PYTHON_CONSTANTS: Readonly<Record<string, number>> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};

/**
 * JSON with Python's non-finite tokens: each token outside a string becomes a string marked with
 * a random prefix that the text does not contain, which a reviver turns back into the number.
 * Throws the `ConfigError` of the plain parse when there is no such token or the text is still
 * invalid.
 */
function parsePythonJson(text: string, failure: Error, source: string): unknown {
  const invalid = () => new ConfigError(`${source}: invalid JSON (${failure.message})`);
  let marker: string;
  do marker = `\u0000py${Math.random().toString(36).slice(2)}:`;
  while (text.includes(marker));
  const parts: string[] = [];
  let start = 0;
  let found = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (char === '"') {
      // Skip the string, escapes included.
      for (i += 1; i < text.length && text[i] !== '"'; i += text[i] === '\\' ? 2 : 1);
      continue;
    }
    const token = char === 'N' ? 'NaN' : char === 'I' ? 'Infinity' : char === '-' && text[i + 1] === 'I' ? '-Infinity' : undefined;
    if (token === undefined || !text.startsWith(token, i)) continue;
    parts.push(text.slice(start, i), JSON.stringify(marker + token));
    start = i + token.length;
    i = start - 1;
    found = true;
  }
  if (!found) throw invalid();
  parts.push(text.slice(start));
  try {
    return JSON.parse(parts.join(''), (_key, item: unknown) =>
      typeof item === 'string' && item.startsWith(marker) ? PYTHON_CONSTANTS[item.slice(marker.length)] : item,
    );
  } catch {
    throw invalid();
  }
}

/**
 * Formats a config as Diffusers does (Python's `json.dumps(config, indent=2, sort_keys=True)` plus
 * a newline): keys sorted at every level, two-space indentation, non-ASCII escaped, non-integers
 * in Python's float notation (`1e-05`), and integral values of `number` options (from
 * `serializeConfig`) as floats (`0.0`), so Python reads back the same value types.
 */
export function formatConfigJson(json: ConfigJson): string {
  const floatKeys = FLOAT_KEYS.get(json) ?? new Set<string>();
  return `${formatValue(json, '', (key) => floatKeys.has(key))}\n`;
}

function formatValue(value: unknown, indent: string, isFloatKey: (key: string) => boolean, asFloat = false): string | undefined {
  if (typeof value === 'number') {
    // Python's json spelling of the non-finite floats (which parseJsonText reads back).
    if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
    return asFloat || !Number.isInteger(value) ? pythonFloat(value) : JSON.stringify(value);
  }
  if (typeof value === 'string')
    return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (value === null || typeof value !== 'object' || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return JSON.stringify(value);
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((item) => inner + (formatValue(item, inner, () => false, asFloat) ?? 'null'));
    return `[\n${items.join(',\n')}\n${indent}]`;
  }
  const lines: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const text = formatValue((value as Record<string, unknown>)[key], inner, () => false, isFloatKey(key));
    if (text !== undefined) lines.push(`${inner}${formatValue(key, inner, () => false)}: ${text}`);
  }
  return lines.length === 0 ? '{}' : `{\n${lines.join(',\n')}\n${indent}}`;
}

/** Python's `repr(float)`: shortest round-trip digits, scientific below 1e-4 and from 1e16. */
function pythonFloat(value: number): string {
  if (Object.is(value, -0)) return '-0.0';
  const [mantissa, exponentText] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = value < 0 ? '-' : '';
  if (exponent < -4 || exponent >= 16) {
    const body = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${body}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  if (exponent >= digits.length - 1) return `${sign}${digits}${'0'.repeat(exponent - digits.length + 1)}.0`;
  return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
}
