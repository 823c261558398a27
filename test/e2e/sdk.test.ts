import { openPlatform, type Platform } from '../../src/platform.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/api/index.js';
import { FluxClient } from '../../src/client/index.js';
import { FluxError } from '../../src/core/index.js';
import { createLogger } from '../../src/logging/index.js';
import { main as sdkExample } from '../../examples/train-with-sdk.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.close();
});

describe('TypeScript SDK (fluxops/client)', () => {
  it('batches metrics automatically and keeps every point', async () => {
    const client = new FluxClient({ url: s.url });
    const run = await client.startRun({ experiment: 'sdk-batching', runName: 'many-points', flushIntervalMs: 50 });
    await run.logParams({ lr: 0.01, layers: 3, dropout: true });
    for (let i = 0; i < 2500; i++) run.logMetric('loss', 1 / (i + 1), { step: i });
    run.logMetric('late', 1);
    await new Promise((r) => setTimeout(r, 200)); // the timer flushes a partial batch
    const ended = await run.end();
    expect(ended.info.status).toBe('FINISHED');
    let count = 0;
    let token: string | undefined;
    do {
      const page = await client.getMetricHistory(run.runId, 'loss', { maxResults: 1000, pageToken: token });
      count += page.items.length;
      token = page.nextPageToken;
    } while (token !== undefined);
    expect(count).toBe(2500);
    const got = await client.getRun(run.runId);
    expect(got.data.params).toEqual({ lr: '0.01', layers: '3', dropout: 'true' });
    expect(got.data.metrics.map((m) => m.key).sort()).toEqual(['late', 'loss']);
    expect(() => run.logMetric('after', 1)).toThrow(/already ended/);
  });

  it('surfaces a rejected batch and marks the run FAILED', async () => {
    const client = new FluxClient({ url: s.url });
    const run = await client.startRun();
    run.logMetric('bad key/../x', 1);
    await expect(run.end()).rejects.toMatchObject({ code: 'INVALID_PARAMETER_VALUE' });
    expect((await client.getRun(run.runId)).info.status).toBe('FAILED');
  });

  it('keeps a failed background flush, when the server goes away mid-run, as the error of the next call and of end(), never as an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    const own = await startTestServer();
    const port = new URL(own.url).port;
    let again: Awaited<ReturnType<typeof buildApp>> | undefined;
    let reopened: Platform | undefined;
    try {
      const client = new FluxClient({ url: own.url, timeoutMs: 5000 });
      const run = await client.startRun({ runName: 'outage', batchSize: 2, flushIntervalMs: 20 });
      run.logMetric('loss', 0.5, { step: 0 });
      run.logMetric('loss', 0.4, { step: 1 });
      await run.flush();

      await own.app.close(); // the server stops mid-run
      run.logMetric('loss', 0.3, { step: 2 });
      run.logMetric('loss', 0.2, { step: 3 }); // a full batch: sent in the background, and refused
      // Keep training until the failure surfaces; the timer sends what is buffered in the background too.
      await vi.waitFor(() => expect(() => run.logMetric('loss', 0.1, { step: 4 })).toThrow(FluxError), { timeout: 10_000, interval: 30 });
      let thrown: unknown;
      try {
        run.logMetric('loss', 0.1, { step: 5 });
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toMatchObject({ code: 'TEMPORARILY_UNAVAILABLE' });
      await expect(run.logParams({ lr: 0.1 })).rejects.toBe(thrown);
      await expect(run.setTags({ a: 'b' })).rejects.toBe(thrown);

      // The server comes back: end() still reports the lost batch, and marks the run FAILED.
      // Closing an app stops its platform's background parts, so the restarted server opens the home anew.
      reopened = await openPlatform({ home: own.home });
      again = await buildApp({ platform: reopened, logger: createLogger({ level: 'silent' }), auth: 'off' });
      await again.listen({ port: Number(port), host: '127.0.0.1' });
      await expect(run.end()).rejects.toBe(thrown);
      const stored = await reopened.tracking.getRun(run.runId);
      expect(stored.info.status).toBe('FAILED');
      expect((await reopened.tracking.getMetricHistory(run.runId, 'loss')).items.map((m) => m.step)).toEqual([0, 1]);
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await again?.close();
      await reopened?.close();
      await own.close();
    }
  });

  it('logs dataset inputs with a context and tags through the native API; the context becomes the mlflow.data.context tag', async () => {
    const client = new FluxClient({ url: s.url });
    const expId = await client.ensureExperiment('sdk-inputs');
    const { info } = await client.createRun({ experimentId: expId });
    const base = { digest: 'abc', sourceType: 'local', source: 'data.csv' };
    await client.logInputs(info.runId, [
      { ...base, name: 'train', context: 'training', tags: [{ key: 'split', value: '80%' }] },
      { ...base, name: 'eval', tags: [{ key: 'mlflow.data.context', value: 'eval' }, { key: 'owner', value: 'ada' }] },
      { ...base, name: 'plain' },
    ]);
    const inputs = (await client.getRun(info.runId)).inputs.sort((a, b) => a.name.localeCompare(b.name));
    expect(inputs.map((d) => [d.name, d.context, d.tags])).toEqual([
      ['eval', 'eval', [{ key: 'mlflow.data.context', value: 'eval' }, { key: 'owner', value: 'ada' }]],
      ['plain', '', []],
      ['train', 'training', [{ key: 'split', value: '80%' }, { key: 'mlflow.data.context', value: 'training' }]],
    ]);
    await expect(client.logInputs(info.runId, [{ ...base, name: 'x', context: 'a', tags: [{ key: 'mlflow.data.context', value: 'b' }] }])).rejects.toMatchObject({
      code: 'INVALID_PARAMETER_VALUE',
      message: expect.stringMatching(/contradicts/) as unknown,
    });
    await expect(client.logInputs(info.runId, [{ ...base, name: 'x', tags: [{ key: '', value: 'b' }] }])).rejects.toMatchObject({ code: 'INVALID_PARAMETER_VALUE' });
  });

  it('runs the example in examples/: train, log, register, alias, search', async () => {
    const r = await sdkExample(s.url);
    expect(r.version).toBe('1');
    expect(r.bestF1).toBeGreaterThan(0.5);
    const client = new FluxClient({ url: s.url });
    expect((await client.resolve('sdk-diabetes@staging')).runId).toBe(r.runId);
    const history = await client.getMetricHistory(r.runId, 'train_loss');
    expect(history.items.length).toBeGreaterThan(2);
  });
});
