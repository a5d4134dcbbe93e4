import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatConfigJson } from '@diffusion-ts/core';
import { DDIMScheduler } from './ddim.js';
import { DDPMScheduler } from './ddpm.js';
import { PNDMScheduler } from './pndm.js';
import { SCHEDULERS, schedulerFromPretrained } from './registry.js';
import { SCHEDULER_CONFIG_NAME } from './scheduler-config-file.js';

let folder: string;
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'scheduler-config-'));
  await new DDPMScheduler({ betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012, stepsOffset: 1 }).save(
    join(folder, 'scheduler'),
  );
  server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    readFile(join(folder, path)).then(
      (body) => {
        response.writeHead(200);
        response.end(body);
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

describe('scheduler_config.json: save and fromPretrained (SchedulerMixin)', () => {
  it('save writes what Diffusers writes, in the folder it names', async () => {
    const text = await readFile(join(folder, 'scheduler', SCHEDULER_CONFIG_NAME), 'utf8');
    const expected = new DDPMScheduler({ betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012, stepsOffset: 1 }).toConfig();
    expect(text).toBe(formatConfigJson(expected));
    expect((JSON.parse(text) as { _class_name: string })._class_name).toBe('DDPMScheduler');
  });

  it.each(['folder', 'url'])('each class loads from a %s, with a subfolder, into itself or a compatible class', async (kind) => {
    const source = kind === 'folder' ? folder : `${baseUrl}/`;
    const ddpm = await DDPMScheduler.fromPretrained(source, { subfolder: 'scheduler' });
    expect(ddpm).toBeInstanceOf(DDPMScheduler);
    expect(ddpm.config).toMatchObject({ betaSchedule: 'scaled_linear', betaStart: 0.00085, stepsOffset: 1 });
    const ddim = await DDIMScheduler.fromPretrained(source, { subfolder: 'scheduler' });
    expect(ddim).toBeInstanceOf(DDIMScheduler);
    expect(Array.from(ddim.alphasCumprod)).toEqual(Array.from(ddpm.alphasCumprod));
    const pndm = await PNDMScheduler.fromPretrained(kind === 'folder' ? join(folder, 'scheduler') : `${baseUrl}/scheduler`);
    expect(pndm.config.betaEnd).toBe(0.012);
  });

  it.each(['folder', 'url'])('schedulerFromPretrained builds the class of _class_name, or the named one, from a %s', async (kind) => {
    const source = kind === 'folder' ? folder : baseUrl;
    expect(await schedulerFromPretrained(source, { subfolder: 'scheduler' })).toBeInstanceOf(DDPMScheduler);
    const ddim = await schedulerFromPretrained(source, { subfolder: 'scheduler', scheduler: 'ddim' });
    expect(ddim).toBeInstanceOf(DDIMScheduler);
    expect((ddim as DDIMScheduler).config.stepsOffset).toBe(1);
    expect(await schedulerFromPretrained(source, { subfolder: 'scheduler', scheduler: 'PNDMScheduler' })).toBeInstanceOf(PNDMScheduler);
  });

  it('names the missing file, and refuses an unknown name before reading anything', async () => {
    await expect(DDIMScheduler.fromPretrained(folder)).rejects.toMatchObject({ name: 'LoadError', fault: 'not-found' });
    await expect(DDIMScheduler.fromPretrained(folder)).rejects.toThrow(/cannot load .*scheduler_config\.json: file not found/);
    await expect(schedulerFromPretrained(`${baseUrl}/nowhere`)).rejects.toThrow(/scheduler_config\.json.*404|404.*scheduler_config/);
    await expect(schedulerFromPretrained(join(folder, 'absent'), { scheduler: 'fancy' })).rejects.toThrow(/unknown scheduler 'fancy'/);
  });

  it('reads within the load limits (issue 17)', async () => {
    for (const source of [folder, baseUrl]) {
      await expect(DDPMScheduler.fromPretrained(source, { subfolder: 'scheduler', maxTextBytes: 16 })).rejects.toMatchObject({
        name: 'LoadError',
        fault: 'too-large',
      });
      await expect(
        schedulerFromPretrained(source, { subfolder: 'scheduler', maxTextBytes: 2 ** 20, timeoutMs: 10_000 }),
      ).resolves.toBeInstanceOf(DDPMScheduler);
    }
  });

  it('every registered class round-trips through save / fromPretrained, replacing the previous file (no temporary left)', async () => {
    const target = join(folder, 'round-trip');
    for (const Scheduler of Object.values(SCHEDULERS)) {
      const original = Scheduler.fromConfig({ num_train_timesteps: 50, beta_schedule: 'squaredcos_cap_v2', steps_offset: 2 });
      await original.save(target);
      const loaded = await Scheduler.fromPretrained(target);
      expect(loaded.className).toBe(Scheduler.className);
      expect(loaded.toConfig()).toEqual(original.toConfig());
      expect(await readdir(target)).toEqual([SCHEDULER_CONFIG_NAME]);
    }
  });
});
