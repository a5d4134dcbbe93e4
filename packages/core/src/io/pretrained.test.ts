import { createServer, type Server } from 'node:http';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPretrained, openPretrained } from './pretrained.js';

const FIXTURE = new URL('../../../../fixtures/diffusers/unet2d_tiny/', import.meta.url).pathname;

let folder: string;
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'pretrained-'));
  await cp(FIXTURE, join(folder, 'unet'), { recursive: true });
  await mkdir(join(folder, 'scheduler'));
  await writeFile(join(folder, 'scheduler', 'scheduler_config.json'), '{"_class_name": "DDPMScheduler", "num_train_timesteps": 1000}');
  await writeFile(join(folder, 'model_index.json'), '{"_class_name": "DDPMPipeline"}');
  server = createServer(async (request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    try {
      const body = await readFile(join(folder, path));
      response.writeHead(200);
      response.end(request.method === 'HEAD' ? undefined : body);
    } catch {
      response.writeHead(404);
      response.end('not found');
    }
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
  });
});
