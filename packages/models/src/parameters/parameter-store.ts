import * as tf from '@tensorflow/tfjs-core';
import { Generator } from '@diffusion-ts/core';

/**
 * How a parameter is laid out in PyTorch versus here:
 * - `conv`: PyTorch OIHW `[out, in, kh, kw]`, ours HWIO `[kh, kw, in, out]`;
 * - `linear`: PyTorch `[out, in]`, ours `[in, out]`;
 * - `plain`: the same in both (biases, norm scales, embedding tables).
 */
export type ParameterLayout = 'conv' | 'linear' | 'plain';

/** How a parameter is initialised by `fromConfig` (PyTorch's defaults for each layer type). */
export type ParameterInit = { kind: 'uniform'; bound: number } | { kind: 'normal'; std: number } | { kind: 'zeros' } | { kind: 'ones' };

/** One model parameter: its Diffusers name, layout and variable. */
export interface Parameter {
  /** The Diffusers (PyTorch state_dict) name, e.g. `down_blocks.0.resnets.0.conv1.weight`. */
  readonly name: string;
  readonly layout: ParameterLayout;
  /** The variable, in our layout. */
  readonly variable: tf.Variable;
}

/** Options of a `ParameterStore`. */
export interface ParameterStoreOptions {
  /**
   * Draw the initial values (default true). Pass false when every parameter is about to be
   * overwritten by loaded weights: the variables start as zeros, which skips drawing one random
   * number per parameter (seconds for a model of a few hundred million parameters).
   */
  initialize?: boolean;
}

/** All parameters of one model, in creation order, keyed by Diffusers name. */
export class ParameterStore {
  private readonly entries = new Map<string, Parameter>();
  private readonly random: Generator;
  private readonly initialize: boolean;

  /** `seed` drives core's counter-based `Generator`, so weights are the same on every backend. */
  constructor(seed: number, options: ParameterStoreOptions = {}) {
    this.random = new Generator(seed);
    this.initialize = options.initialize ?? true;
  }

  /** A scope whose parameter names start with `prefix`. */
  scope(prefix = ''): ParameterScope {
    return new ParameterScope(this, prefix);
  }

  /** Creates and registers a variable (used by `ParameterScope`). */
  create(name: string, shape: number[], layout: ParameterLayout, init: ParameterInit): tf.Variable {
    if (this.entries.has(name)) throw new Error(`ParameterStore: parameter '${name}' is defined twice`);
    const size = shape.reduce((product, dim) => product * dim, 1);
    const values = this.initialize ? initialValues(this.random, size, init) : new Float32Array(size);
    const variable = tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), true));
    this.entries.set(name, { name, layout, variable });
    return variable;
  }

  /** The parameter with this Diffusers name, if any. */
  get(name: string): Parameter | undefined {
    return this.entries.get(name);
  }

  /** Every parameter, in creation order. */
  list(): Parameter[] {
    return [...this.entries.values()];
  }

  /** The number of scalar parameters. */
  get size(): number {
    let total = 0;
    for (const entry of this.entries.values()) total += entry.variable.size;
    return total;
  }

  /** Disposes every variable. */
  dispose(): void {
    for (const entry of this.entries.values()) entry.variable.dispose();
    this.entries.clear();
  }
}

function initialValues(random: Generator, size: number, init: ParameterInit): Float32Array {
  switch (init.kind) {
    case 'uniform': {
      const values = random.uniform(size);
      for (let i = 0; i < size; i += 1) values[i] = (2 * values[i] - 1) * init.bound;
      return values;
    }
    case 'normal': {
      const values = random.normal(size);
      if (init.std !== 1) for (let i = 0; i < size; i += 1) values[i] *= init.std;
      return values;
    }
    case 'zeros':
      return new Float32Array(size);
    case 'ones':
      return new Float32Array(size).fill(1);
  }
}

/** A naming scope: parameters created through it get `prefix.` in front of their names. */
export class ParameterScope {
  constructor(
    private readonly store: ParameterStore,
    /** The Diffusers name prefix, e.g. `down_blocks.0.resnets.0`. */
    readonly prefix: string,
  ) {}

  /** A nested scope, e.g. `scope.child('resnets').child(0)`. */
  child(name: string | number): ParameterScope {
    return new ParameterScope(this.store, this.prefix === '' ? String(name) : `${this.prefix}.${name}`);
  }

  /** Creates a variable named `prefix.name`. */
  parameter(name: string, shape: number[], layout: ParameterLayout, init: ParameterInit): tf.Variable {
    return this.store.create(this.prefix === '' ? name : `${this.prefix}.${name}`, shape, layout, init);
  }
}
