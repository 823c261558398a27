import type { FluxClient } from '../../src/client/index.js';
import type { PipelineRun } from '../../src/pipelines/index.js';

/** Polls a pipeline run until it is no longer running (or the time is up). */
export async function ended(client: FluxClient, id: string, timeoutMs: number): Promise<PipelineRun> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await client.getPipelineRun(id);
    if (r.status !== 'running') return r;
    if (Date.now() > end) throw new Error(`run ${id} still running`);
    await new Promise((res) => setTimeout(res, 250));
  }
}
