import { createServer, type Server } from 'node:http';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathToFileURL } from 'node:url';
import { LoadError } from './load-error.js';
import { loadPretrained, openPretrained } from './pretrained.js';
import { loadSafetensors } from './safetensors-file.js';

const FIXTURE = new URL('../../../../fixtures/diffusers/unet2d_tiny/', import.meta.url).pathname;

let folder: string;
let server: Server;
let baseUrl: string;
const requests: string[] = [];

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'pretrained-'));
  await cp(FIXTURE, join(folder, 'unet'), { recursive: true });
  await mkdir(join(folder, 'scheduler'));
  await writeFile(join(folder, 'scheduler', 'scheduler_config.json'), '{"_class_name": "DDPMScheduler", "num_train_timesteps": 1000}');
  await writeFile(join(folder, 'model_index.json'), '{"_class_name": "DDPMPipeline"}');
  server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    if (request.url?.startsWith('/broken')) {
      response.writeHead(500, 'Internal Server Error');
      response.end();
      return;
    }
    if (request.url?.startsWith('/no-head') && request.method === 'HEAD') {
      response.writeHead(405);
      response.end();
      return;
    }
    const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    readFile(join(folder, path.replace(/^\/no-head/, ''))).then(
      (body) => {
        response.writeHead(200);
        response.end(request.method === 'HEAD' ? undefined : body);
      },
      () => {
        response.writeHead(404);
        response.end('not found');
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(folder, { recursive: true, force: true });
});

describe.each(['folder', 'url'])('openPretrained from a %s', (kind) => {
  const location = () => (kind === 'folder' ? folder : `${baseUrl}/`);

  it('reads the Diffusers layout', async () => {
    const source = openPretrained(location());
    expect((await source.readJson('model_index.json'))._class_name).toBe('DDPMPipeline');
    expect((await source.subfolder('scheduler').readJson('scheduler_config.json'))._class_name).toBe('DDPMScheduler');
    expect(await source.exists('unet/config.json')).toBe(true);
    expect(await source.exists('unet/missing.json')).toBe(false);
    const { config, weights } = await loadPretrained(source, { subfolder: 'unet' });
    expect(config._class_name).toBe('UNet2DModel');
    expect(Object.keys(weights.tensors)).toHaveLength(144);
  });

  it('names the missing file and the source', async () => {
    const source = openPretrained(location());
    await expect(source.readJson('nope/config.json')).rejects.toThrow(/nope\/config\.json/);
    await expect(source.readBytes('../etc/passwd')).rejects.toThrow(/relative path/);
    await expect(source.readBytes('/etc/passwd')).rejects.toThrow(/relative path/);
    await expect(source.readBytes('unet/missing.bin')).rejects.toMatchObject({ name: 'LoadError', fault: 'not-found' });
    await expect(loadPretrained(source)).rejects.toThrow(/config\.json: file not found|config\.json: HTTP 404/);
    const message = await source.readBytes('unet/missing.bin').then(
      () => '',
      (error: Error) => error.message,
    );
    expect(message).toContain(kind === 'folder' ? folder : baseUrl);
    if (kind === 'url') expect(message).toMatch(/HTTP 404/);
  });

  it('loads weights and text through the same source', async () => {
    const unet = openPretrained(location()).subfolder('unet');
    expect(unet.location).toMatch(/\/unet$/);
    expect((JSON.parse(await unet.readText('config.json')) as { sample_size: number }).sample_size).toBe(16);
    const file = `${unet.location}/diffusion_pytorch_model.safetensors`;
    const weights = await loadSafetensors(file);
    expect(Object.keys(weights.tensors)).toHaveLength(144);
  });
});

describe('openPretrained errors', () => {
  it('reports HTTP statuses, refused connections and missing folders', async () => {
    await expect(openPretrained(`${baseUrl}/broken`).readJson('config.json')).rejects.toThrow(/HTTP 500/);
    await expect(loadSafetensors(new URL(`${baseUrl}/unet/nothing.safetensors`))).rejects.toThrow(/HTTP 404/);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    await expect(openPretrained(deadUrl).readJson('config.json')).rejects.toThrow(/config\.json: could not fetch/);
    await expect(openPretrained(deadUrl).readJson('config.json')).rejects.toMatchObject({ fault: 'network' });
    await expect(openPretrained(join(folder, 'absent')).readJson('config.json')).rejects.toThrow(/folder does not exist/);
    await expect(openPretrained('google/ddpm-cifar10-32').readJson('config.json')).rejects.toThrow(
      /https:\/\/huggingface\.co\/google\/ddpm-cifar10-32\/resolve\/main/,
    );
    expect(() => openPretrained('')).toThrow(/non-empty/);
    expect(() => openPretrained(`${baseUrl}/a?x=1`)).toThrow(LoadError);
    expect(() => openPretrained(`${baseUrl}/a#x`)).toThrow(/query or fragment/);
  });

  it('falls back to a ranged GET when the server refuses HEAD', async () => {
    requests.length = 0;
    const source = openPretrained(`${baseUrl}/no-head`);
    expect(await source.exists('model_index.json')).toBe(true);
    expect(await source.exists('absent.json')).toBe(false);
    expect(requests.filter((line) => line.startsWith('GET'))).toHaveLength(2);
  });

  it('reads a broken JSON file with an error naming it', async () => {
    await writeFile(join(folder, 'scheduler', 'broken.json'), '{');
    const scheduler = openPretrained(baseUrl).subfolder('scheduler');
    await expect(scheduler.readJson('broken.json')).rejects.toThrow(/scheduler\/broken\.json: invalid JSON/);
  });
});

/** Every spelling of a way out of the folder, or of a change to the request, that must be refused. */
const ESCAPES = [
  '%2e%2e/model_index.json',
  '%2E%2E/%2e%2e/etc/passwd',
  '..%2fmodel_index.json',
  '..%5cmodel_index.json',
  'a/../../model_index.json',
  '..\\model_index.json',
  '%252e%252e/model_index.json',
  '/etc/passwd',
  '%2fetc%2fpasswd',
  'C:/Windows/win.ini',
  'unet#',
  'unet?x=',
  'unet%23',
  'unet%3fx=1',
  'config.json%00.txt',
  '%zz',
];

describe('relative paths are decoded, normalised and kept inside the base (issue 17)', () => {
  it('refuses escapes from a URL base before any request leaves', async () => {
    requests.length = 0;
    const base = `${baseUrl}/unet`;
    for (const escape of ESCAPES) {
      const source = openPretrained(base);
      await expect(source.readBytes(escape), escape).rejects.toMatchObject({ name: 'LoadError', fault: 'unsafe-path' });
      await expect(source.exists(escape), escape).rejects.toMatchObject({ fault: 'unsafe-path' });
      expect(() => source.subfolder(escape), escape).toThrow(LoadError);
      await expect(loadPretrained(base, { subfolder: escape }), escape).rejects.toMatchObject({ fault: 'unsafe-path' });
    }
    await expect(loadPretrained(`${baseUrl}/a/b`, { subfolder: '%2e%2e/%2e%2e/etc' })).rejects.toThrow(LoadError);
    expect(requests).toEqual([]);
  });

  it('refuses escapes from a folder and from a file: URL', async () => {
    for (const base of [join(folder, 'unet'), pathToFileURL(join(folder, 'unet')).href]) {
      const source = openPretrained(base);
      for (const escape of ESCAPES) {
        await expect(source.exists(escape), `${base} ${escape}`).rejects.toMatchObject({ fault: 'unsafe-path' });
        await expect(source.readJson(escape), `${base} ${escape}`).rejects.toMatchObject({ fault: 'unsafe-path' });
      }
    }
    // The same names exist one level up, so a successful escape would have read them.
    await writeFile(join(folder, 'config.json'), '{"outside": true}');
    const viaFileUrl = openPretrained(pathToFileURL(join(folder, 'unet')).href);
    await expect(viaFileUrl.readJson('%2e%2e/config.json')).rejects.toThrow(LoadError);
    expect((await viaFileUrl.readJson('config.json'))._class_name).toBe('UNet2DModel');
    expect(await viaFileUrl.exists('./config.json')).toBe(true);
  });

  it('still reads ordinary names: ./, doubled slashes, encoded spaces', async () => {
    await mkdir(join(folder, 'with space'), { recursive: true });
    await writeFile(join(folder, 'with space', 'config.json'), '{"_class_name": "Spaced"}');
    for (const base of [folder, baseUrl, pathToFileURL(folder).href]) {
      const source = openPretrained(base);
      expect((await source.readJson('./unet//config.json'))._class_name).toBe('UNet2DModel');
      expect((await source.subfolder('with%20space').readJson('config.json'))._class_name).toBe('Spaced');
      expect((await source.subfolder('with space').readJson('config.json'))._class_name).toBe('Spaced');
    }
  });
});
