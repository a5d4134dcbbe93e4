import { initBackend } from '@diffusion-ts/core';
import { testBackendNames } from '@diffusion-ts/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { geluTanh, quickGelu } from '../layers/activation.js';
import { attentionBias, pooledPositions, type CheckedInputIds } from './text-inputs.js';

const ids = (rows: number[][]): CheckedInputIds => ({ values: Int32Array.from(rows.flat()), batch: rows.length, length: rows[0].length });

describe('pooledPositions', () => {
  it('takes the argmax of the ids when eos_token_id is 2 (configs before transformers PR #24773)', () => {
    // SD 1.x (pad = EOS): the first EOS is the first maximum; SD 2.x (pad = "!" = 0): the only EOS.
    expect(Array.from(pooledPositions(ids([[49406, 320, 49407, 49407, 49407]]), 2))).toEqual([2]);
    expect(Array.from(pooledPositions(ids([[49406, 320, 1125, 49407, 0, 0]]), 2))).toEqual([3]);
    // An added token above 49407 wins the argmax: the legacy rule's known limitation, kept as transformers keeps it.
    expect(Array.from(pooledPositions(ids([[49406, 49408, 49407, 49407]]), 2))).toEqual([1]);
  });

  it('takes the first position equal to eos_token_id otherwise, and 0 when a row has none', () => {
    expect(Array.from(pooledPositions(ids([[49406, 49408, 49407, 49407]]), 49407))).toEqual([2]);
    expect(Array.from(pooledPositions(ids([[49406, 320, 321, 322]]), 49407))).toEqual([0]);
    expect(
      Array.from(
        pooledPositions(
          ids([
            [5, 7, 7],
            [7, 5, 5],
          ]),
          7,
        ),
      ),
    ).toEqual([1, 0]);
  });
});

describe.each(testBackendNames())('text encoder helpers on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it('builds a causal bias, with padding keys masked per row, repeated per head', () => {
    const min = Math.fround(-3.4028234663852886e38);
    const causal = attentionBias(1, 2, 3, undefined, 'test');
    expect(causal.shape).toEqual([1, 2, 3, 3]);
    const head = [0, min, min, 0, 0, min, 0, 0, 0];
    expect(Array.from(causal.dataSync())).toEqual([...head, ...head]);
    const mask = tf.tensor2d(
      [
        [1, 1, 0],
        [1, 0, 1],
      ],
      undefined,
      'int32',
    );
    const padded = attentionBias(2, 1, 3, mask, 'test');
    expect(padded.shape).toEqual([2, 1, 3, 3]);
    const values = Array.from(padded.dataSync()).map((value) => (value === 0 ? 0 : 1));
    expect(values).toEqual([0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0]);
    tf.dispose([causal, mask, padded]);
  });

  it('computes quick_gelu and the tanh GELU as transformers defines them', () => {
    const inputs = [-6, -1.5, -0.3, 0, 0.2, 1, 4.5];
    const x = tf.tensor1d(inputs);
    const quick = quickGelu(x).dataSync();
    const tanh = geluTanh(x).dataSync();
    inputs.forEach((value, i) => {
      expect(quick[i]).toBeCloseTo(value / (1 + Math.exp(-1.702 * value)), 6);
      expect(tanh[i]).toBeCloseTo(0.5 * value * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (value + 0.044715 * value ** 3))), 6);
    });
    x.dispose();
  });
});
