import { extname, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileExtension, joinPath } from './paths.js';

describe('fileExtension', () => {
  it("matches Node's extname", () => {
    for (const name of [
      'a.png',
      '.png',
      '..png',
      '...',
      'a.',
      'a/b.c/d',
      'x.tar.gz',
      'dir.d/file',
      '..',
      '.',
      'a.PNG',
      '..a.b',
      '',
      'images/0001.jpeg',
    ]) {
      expect(fileExtension(name), name).toBe(extname(name));
    }
  });
});

describe('joinPath', () => {
  it("matches Node's posix join for plain segments", () => {
    const cases = [
      ['runs/mnist', 'checkpoint.safetensors'],
      ['runs/mnist/', 'training-log.jsonl'],
      ['/tmp/run', 'scheduler', 'scheduler_config.json'],
      ['/', 'x'],
      ['', 'x'],
      ['a', '', 'b'],
    ];
    for (const segments of cases) expect(joinPath(...segments), segments.join(' + ')).toBe(posix.join(...segments));
  });
});
