import { describe, expect, it } from 'vitest';

import { loadNativeAddon, nativeAddonStatus, type NativeAddon } from './addon.js';
import { randomValues, relativeError } from './test-helpers.js';

// Before anything has tried to load it, the status says so.
const statusBeforeLoading = nativeAddonStatus();
const loading = await loadNativeAddon().then(
  (addon) => ({ addon, reason: undefined }),
  (error: unknown) => ({ addon: undefined, reason: error instanceof Error ? error.message : String(error) }),
);
if (loading.addon === undefined) console.warn(`@diffusion-ts/native addon tests skipped: ${loading.reason}`);

/** A heap with `regions` laid out one after the other (with a gap), filled with random values. */
function layout(sizes: number[], seed: number, shared = false) {
  const offsets: number[] = [];
  let end = 7; // nothing starts at 0, so offsets are really used
  for (const size of sizes) {
    offsets.push(end);
    end += size + 5;
  }
  const heap = shared ? new Float32Array(new SharedArrayBuffer(end * 4)) : new Float32Array(end);
  heap.set(randomValues(end, seed));
  return { heap, offsets };
}

interface Gemm {
  batch: number;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  broadcastA?: boolean;
  broadcastB?: boolean;
  bias?: boolean;
}

function referenceGemm(heap: Float32Array, g: Gemm, aOff: number, bOff: number, biasOff: number): Float32Array {
  const { batch, M, N, K, transA, transB } = g;
  const out = new Float32Array(batch * M * N);
  for (let b = 0; b < batch; b++) {
    const a0 = aOff + (g.broadcastA ? 0 : b * M * K);
    const b0 = bOff + (g.broadcastB ? 0 : b * K * N);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let sum = biasOff >= 0 ? heap[biasOff + j] : 0;
        for (let k = 0; k < K; k++) {
          const a = heap[a0 + (transA ? k * M + i : i * K + k)];
          const bv = heap[b0 + (transB ? j * K + k : k * N + j)];
          sum += a * bv;
        }
        out[b * M * N + i * N + j] = sum;
      }
    }
  }
  return out;
}

function checkGemm(addon: NativeAddon, g: Gemm, seed: number, shared = false): number {
  const { batch, M, N, K } = g;
  const aSize = (g.broadcastA ? 1 : batch) * M * K;
  const bSize = (g.broadcastB ? 1 : batch) * K * N;
  const { heap, offsets } = layout([aSize, bSize, batch * M * N, N], seed, shared);
  const [aOff, bOff, cOff, biasSlot] = offsets as [number, number, number, number];
  const biasOff = g.bias ? biasSlot : -1;
  const expected = referenceGemm(heap, g, aOff, bOff, biasOff);
  const before = heap.slice();
  addon.gemm(
    heap,
    batch,
    M,
    N,
    K,
    g.transA,
    g.transB,
    aOff,
    bOff,
    cOff,
    g.broadcastA ? 0 : M * K,
    g.broadcastB ? 0 : K * N,
    M * N,
    biasOff,
  );
  // Nothing outside C changed.
  for (let index = 0; index < heap.length; index++) {
    if (index >= cOff && index < cOff + batch * M * N) continue;
    if (!Object.is(heap[index], before[index])) throw new Error(`gemm wrote outside C at ${index}`);
  }
  return relativeError(heap.subarray(cOff, cOff + batch * M * N), expected);
}

interface Conv {
  N: number;
  H: number;
  W: number;
  Cin: number;
  KH: number;
  KW: number;
  Cout: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  padTop: number;
  padLeft: number;
  outH: number;
  outW: number;
}

function geometry(c: Conv) {
  return [
    c.N,
    c.H,
    c.W,
    c.Cin,
    c.KH,
    c.KW,
    c.Cout,
    c.strideH,
    c.strideW,
    c.dilationH,
    c.dilationW,
    c.padTop,
    c.padLeft,
    c.outH,
    c.outW,
  ] as const;
}

/** Calls visit(xIndex, wIndex, yIndex) for every multiply of the convolution. */
function forEachTap(c: Conv, visit: (x: number, w: number, y: number) => void): void {
  for (let n = 0; n < c.N; n++) {
    for (let oh = 0; oh < c.outH; oh++) {
      for (let ow = 0; ow < c.outW; ow++) {
        for (let kh = 0; kh < c.KH; kh++) {
          const ih = oh * c.strideH + kh * c.dilationH - c.padTop;
          if (ih < 0 || ih >= c.H) continue;
          for (let kw = 0; kw < c.KW; kw++) {
            const iw = ow * c.strideW + kw * c.dilationW - c.padLeft;
            if (iw < 0 || iw >= c.W) continue;
            for (let ci = 0; ci < c.Cin; ci++) {
              for (let co = 0; co < c.Cout; co++) {
                visit(
                  ((n * c.H + ih) * c.W + iw) * c.Cin + ci,
                  ((kh * c.KW + kw) * c.Cin + ci) * c.Cout + co,
                  ((n * c.outH + oh) * c.outW + ow) * c.Cout + co,
                );
              }
            }
          }
        }
      }
    }
  }
}

function convSizes(c: Conv) {
  return { x: c.N * c.H * c.W * c.Cin, w: c.KH * c.KW * c.Cin * c.Cout, y: c.N * c.outH * c.outW * c.Cout };
}

/** 3x3 stride 2 with padding 1 on an odd-sized input, dilation 1; overridable. */
function conv(overrides: Partial<Conv> = {}): Conv {
  const c: Conv = {
    N: 2,
    H: 7,
    W: 9,
    Cin: 5,
    KH: 3,
    KW: 3,
    Cout: 19,
    strideH: 2,
    strideW: 2,
    dilationH: 1,
    dilationW: 1,
    padTop: 1,
    padLeft: 1,
    outH: 4,
    outW: 5,
    ...overrides,
  };
  return c;
}

describe.skipIf(loading.addon === undefined)('the native addon', () => {
  const addon = loading.addon!;

  it('reports its status, instruction set and threads', () => {
    expect(statusBeforeLoading.available).toBe(false);
    expect(statusBeforeLoading.reason).toMatch(/not been loaded/);
    const info = addon.info();
    expect(['avx512', 'avx2-fma', 'generic']).toContain(info.isa);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    const { binary, ...status } = nativeAddonStatus();
    expect(status).toEqual({ available: true, isa: info.isa, threads: info.threads });
    // The prebuilt binary where one fits (the package build makes this platform's), else the one compiled at install.
    expect(binary).toMatch(/\/(prebuilds\/[a-z0-9]+-[a-z0-9+]+\/[^/]*\bnapi\b[^/]*|build\/diffusion_native)\.node$/);
  });

  it('returns the same object on every load', async () => {
    expect(await loadNativeAddon()).toBe(addon);
  });

  const gemms: Gemm[] = [];
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      gemms.push({ batch: 3, M: 13, N: 37, K: 29, transA, transB, bias: transA });
      gemms.push({ batch: 1, M: 70, N: 65, K: 300, transA, transB, bias: !transB });
    }
  }
  gemms.push({ batch: 4, M: 5, N: 6, K: 4, transA: false, transB: false, broadcastB: true });
  gemms.push({ batch: 3, M: 5, N: 6, K: 4, transA: true, transB: false, broadcastA: true, bias: true });
  gemms.push({ batch: 2, M: 1, N: 1, K: 1, transA: false, transB: true });
  gemms.push({ batch: 2, M: 3, N: 4, K: 0, transA: false, transB: false, bias: true });
  // Few rows (<= 8): B streamed unpacked, or for a transposed B the product computed as C^T = B A^T.
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      gemms.push({ batch: 2, M: 8, N: 300, K: 37, transA, transB, bias: true });
      gemms.push({ batch: 1, M: 1, N: 64, K: 513, transA, transB });
    }
  }

  it.each(gemms)('gemm %o matches a plain loop', (g) => {
    expect(checkGemm(addon, g, g.M * 31 + g.N)).toBeLessThanOrEqual(1e-5);
  });

  it('gemm works on a SharedArrayBuffer heap (the threaded wasm build)', () => {
    expect(checkGemm(addon, { batch: 2, M: 9, N: 17, K: 33, transA: false, transB: true, bias: true }, 5, true)).toBeLessThanOrEqual(1e-5);
  });

  const convs: Conv[] = [
    conv(),
    conv({ N: 1, H: 7, W: 9, Cin: 3, Cout: 16, strideH: 1, strideW: 1, outH: 7, outW: 9 }),
    conv({ N: 3, H: 8, W: 6, Cin: 8, KH: 1, KW: 1, Cout: 12, strideH: 1, strideW: 1, padTop: 0, padLeft: 0, outH: 8, outW: 6 }),
    conv({
      N: 1,
      H: 9,
      W: 7,
      Cin: 4,
      Cout: 6,
      strideH: 1,
      strideW: 1,
      dilationH: 2,
      dilationW: 2,
      padTop: 2,
      padLeft: 2,
      outH: 9,
      outW: 7,
    }),
    conv({ N: 2, H: 8, W: 8, Cin: 6, KH: 2, KW: 2, Cout: 10, padTop: 0, padLeft: 0, outH: 4, outW: 4 }),
    conv({ N: 1, H: 6, W: 10, Cin: 3, KH: 3, KW: 5, Cout: 4, strideH: 1, strideW: 3, padTop: 0, padLeft: 2, outH: 4, outW: 4 }),
  ];

  it.each(convs)('conv2d %o matches a plain loop, with and without bias', (c) => {
    const sizes = convSizes(c);
    for (const withBias of [false, true]) {
      const { heap, offsets } = layout([sizes.x, sizes.w, sizes.y, c.Cout], c.Cout * 7 + c.H);
      const [xOff, wOff, yOff, biasSlot] = offsets as [number, number, number, number];
      const biasOff = withBias ? biasSlot : -1;
      const expected = new Float32Array(sizes.y);
      if (withBias) for (let index = 0; index < sizes.y; index++) expected[index] = heap[biasOff + (index % c.Cout)]!;
      forEachTap(c, (x, w, y) => {
        expected[y] += heap[xOff + x] * heap[wOff + w];
      });
      addon.conv2d(heap, xOff, wOff, yOff, biasOff, ...geometry(c));
      expect(relativeError(heap.subarray(yOff, yOff + sizes.y), expected)).toBeLessThanOrEqual(1e-5);
    }
  });

  it.each(convs)('conv2dBackpropInput %o matches a plain loop', (c) => {
    const sizes = convSizes(c);
    const { heap, offsets } = layout([sizes.y, sizes.w, sizes.x], c.Cin * 11 + c.W);
    const [dyOff, wOff, dxOff] = offsets as [number, number, number];
    const expected = new Float32Array(sizes.x);
    forEachTap(c, (x, w, y) => {
      expected[x] += heap[dyOff + y] * heap[wOff + w];
    });
    addon.conv2dBackpropInput(heap, dyOff, wOff, dxOff, ...geometry(c));
    expect(relativeError(heap.subarray(dxOff, dxOff + sizes.x), expected)).toBeLessThanOrEqual(1e-5);
  });

  it.each(convs)('conv2dBackpropFilter %o matches a plain loop', (c) => {
    const sizes = convSizes(c);
    const { heap, offsets } = layout([sizes.x, sizes.y, sizes.w], c.KH * 13 + c.N);
    const [xOff, dyOff, dwOff] = offsets as [number, number, number];
    const expected = new Float32Array(sizes.w);
    forEachTap(c, (x, w, y) => {
      expected[w] += heap[xOff + x] * heap[dyOff + y];
    });
    addon.conv2dBackpropFilter(heap, xOff, dyOff, dwOff, ...geometry(c));
    expect(relativeError(heap.subarray(dwOff, dwOff + sizes.w), expected)).toBeLessThanOrEqual(1e-5);
  });

  it('writes zero gradients when there is nothing to sum (a batch of 0, no output channels: issue 17)', () => {
    const heap = new Float32Array(4096).fill(7);
    const empty = conv({ N: 0, H: 6, W: 6, Cin: 3, Cout: 4, strideH: 1, strideW: 1, outH: 6, outW: 6, padTop: 1, padLeft: 1 });
    addon.conv2dBackpropFilter(heap, 0, 0, 100, ...geometry(empty));
    expect(Array.from(heap.subarray(100, 100 + 3 * 3 * 3 * 4)).every((value) => value === 0)).toBe(true);
    heap.fill(7);
    const noOutputs = conv({ N: 2, H: 6, W: 6, Cin: 3, Cout: 0, strideH: 1, strideW: 1, outH: 6, outW: 6, padTop: 1, padLeft: 1 });
    addon.conv2dBackpropInput(heap, 0, 0, 100, ...geometry(noOutputs));
    expect(Array.from(heap.subarray(100, 100 + 2 * 6 * 6 * 3)).every((value) => value === 0)).toBe(true);
    const strided = conv({ N: 2, H: 6, W: 6, Cin: 3, Cout: 0, strideH: 2, strideW: 2, outH: 3, outW: 3, padTop: 1, padLeft: 1 });
    heap.fill(7);
    addon.conv2dBackpropInput(heap, 0, 0, 100, ...geometry(strided));
    expect(Array.from(heap.subarray(100, 100 + 2 * 6 * 6 * 3)).every((value) => value === 0)).toBe(true);
    heap.fill(7);
    addon.conv2d(
      heap,
      0,
      0,
      100,
      -1,
      ...geometry(conv({ N: 2, H: 6, W: 6, Cin: 0, Cout: 4, strideH: 1, strideW: 1, outH: 6, outW: 6, padTop: 1, padLeft: 1 })),
    );
    expect(Array.from(heap.subarray(100, 100 + 2 * 6 * 6 * 4)).every((value) => value === 0)).toBe(true);
  });

  it('gives the same results on one thread', () => {
    const threads = addon.info().threads;
    try {
      addon.setThreads(1);
      expect(addon.info().threads).toBe(1);
      expect(checkGemm(addon, { batch: 2, M: 40, N: 33, K: 70, transA: true, transB: true, bias: true }, 9)).toBeLessThanOrEqual(1e-5);
    } finally {
      addon.setThreads(threads);
    }
    expect(addon.info().threads).toBe(threads);
  });

  it('refuses regions outside the array instead of touching them', () => {
    const heap = new Float32Array(64);
    expect(() => addon.gemm(heap, 1, 4, 4, 4, false, false, 0, 16, 60, 16, 16, 16, -1)).toThrow(RangeError);
    expect(() => addon.gemm(heap, 2, 4, 4, 4, false, false, 0, 0, 32, 16, 16, 16, 63)).toThrow(RangeError);
    const c = conv({ N: 1, H: 3, W: 3, Cin: 1, Cout: 1, strideH: 1, strideW: 1, outH: 3, outW: 3 });
    expect(() => addon.conv2d(heap, 0, 9, 60, -1, ...geometry(c))).toThrow(RangeError);
    expect(() => addon.conv2d(new Float64Array(64) as unknown as Float32Array, 0, 9, 18, -1, ...geometry(c))).toThrow(RangeError);
  });
});
