// Consumer check for @diffusion-ts/schedulers with plain tfjs tensors and a hand-written model.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as schedulers from '@diffusion-ts/schedulers';
import { allFinite, check, expect, finish } from './harness.mjs';

await tf.setBackend('cpu');
/** A stand-in "model": predicts a fixed fraction of the sample as the noise. */
const model = (sample, timestep) => tf.mul(sample, 0.1 + timestep / 10000);

for (const name of ['DDPMScheduler', 'DDIMScheduler', 'PNDMScheduler']) {
  await check(`${name}: 5-step loop with a hand-written model`, () => {
    const Scheduler = schedulers[name];
    expect(typeof Scheduler === 'function', `${name} not exported`);
    const scheduler = new Scheduler({ numTrainTimesteps: 1000 });
    scheduler.setTimesteps(5);
    expect(scheduler.timesteps.length >= 5, `timesteps ${scheduler.timesteps}`);
    const before = tf.memory().numTensors;
    let sample = tf.randomNormal([1, 4, 4, 1], 0, 1, 'float32', 1);
    for (const t of scheduler.timesteps) {
      const next = tf.tidy(() => {
        const input = scheduler.scaleModelInput(sample, t);
        return scheduler.step(model(input, t), t, sample).prevSample;
      });
      sample.dispose();
      sample = next;
    }
    const values = sample.dataSync();
    sample.dispose();
    expect(allFinite(values), 'non-finite sample');
    const leaked = tf.memory().numTensors - before;
    expect(leaked <= 0 || name === 'PNDMScheduler', `${leaked} tensors leaked`);
    return `${scheduler.timesteps.length} steps, leaked ${Math.max(0, leaked)} tensors`;
  });
}
await check('addNoise at t=0 keeps x0 (almost)', () => {
  const scheduler = new schedulers.DDPMScheduler();
  const diff = tf.tidy(() => {
    const x0 = tf.ones([2, 2, 2, 1]);
    const noisy = scheduler.addNoise(x0, tf.zeros([2, 2, 2, 1]), [0, 0]);
    return tf.max(tf.abs(tf.sub(noisy, x0))).dataSync()[0];
  });
  expect(diff < 1e-3, `difference ${diff}`);
});
await check('schedulerFromConfig picks the class by _class_name', () => {
  expect(typeof schedulers.schedulerFromConfig === 'function', 'schedulerFromConfig not exported');
  const ddim = new schedulers.DDIMScheduler({ betaSchedule: 'scaled_linear', betaStart: 0.00085, betaEnd: 0.012 });
  const again = schedulers.schedulerFromConfig(ddim.toConfig());
  expect(again instanceof schedulers.DDIMScheduler, `got ${again?.constructor?.name}`);
  expect(again.config.betaSchedule === 'scaled_linear', 'config lost');
});
finish();
