import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { openArtifactStore } from '../../src/storage/artifacts/index.js';
import { tmpDir } from '../helpers/backends.js';
import { assertBuilt, runCli, startCli, stop } from '../helpers/cli.js';
import { emulatorOrSkip, startS3rver } from '../helpers/emulators.js';

// The cluster shape: servers with their own --home share one metadata database and one S3 root.
const s3 = await emulatorOrSkip(startS3rver, 's3rver');

describe.skipIf(s3 === undefined)('servers sharing one S3 artifact root (real CLI processes, s3rver)', () => {
  beforeAll(() => {
    assertBuilt();
    console.log(`shared artifact root: running on ${s3?.label ?? 'nothing'}`);
  });

  it('a second server with another --home loads and serves the model the first registered', async () => {
    const root = `s3://${s3!.bucket}/shared-${randomBytes(6).toString('hex')}`;
    const env = { ...(s3!.env as Record<string, string>), FLUXOPS_DATABASE_URL: `sqlite:${path.join(tmpDir(), 'shared.db')}`, FLUXOPS_ARTIFACT_ROOT: root };
    const homeA = tmpDir('fluxops-home-a-');
    const homeB = tmpDir('fluxops-home-b-');

    const first = await runCli(['quickstart', '--no-serve', '--rows', '400', '--home', homeA], { env, timeoutMs: 120_000 });
    expect(first.code, first.stderr).toBe(0);
    const key = /API key \(predict on \S+\): (flx_\S+)/.exec(first.stdout)?.[1];
    const runId = /trained run ([0-9a-f]{32})/.exec(first.stdout)?.[1];
    expect(key).toBeDefined();
    expect(runId).toBeDefined();

    const { child, match } = await startCli(['--home', homeB, 'server', '--port', '0'], /listening on (http:\/\/[\d.]+:\d+) .*artifacts: (\S+?)[,)]/, { env });
    try {
      const url = match[1]!;
      expect(match[2]).toBe(root);
      const info = (await (await fetch(`${url}/api/model-info`)).json()) as { model: string; version: string; signature: { inputs: Array<{ name: string }> } };
      expect(info).toMatchObject({ model: 'diabetes', version: '1' });
      const record = Object.fromEntries(info.signature.inputs.map((c) => [c.name, 1]));
      const res = await fetch(`${url}/api/predict`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [record] }) });
      expect(res.status).toBe(200);
      expect([0, 1]).toContain(((await res.json()) as { predictions: number[] }).predictions[0]);
    } finally {
      expect(await stop(child)).toBe(0);
    }

    // The run's files are in the bucket (experiment 1 is the quickstart's, `<exp>/<run>/artifacts`) and in neither home.
    const store = openArtifactStore(root, s3!.env);
    expect(await store.exists(`1/${runId}/artifacts`)).toBe(true);
    for (const home of [homeA, homeB]) expect(fs.existsSync(path.join(home, 'artifacts'))).toBe(false);
  });

  it('a server refuses to start on a malformed root or a missing bucket, with one sentence and exit 2', async () => {
    const home = tmpDir('fluxops-home-bad-');
    const malformed = await runCli(['--home', home, 'server', '--port', '0'], { env: { ...(s3!.env as Record<string, string>), FLUXOPS_ARTIFACT_ROOT: 's3://' } });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/^error: artifact root 's3:\/\/' is not valid \(it names no bucket\); use a folder path, file:\/\/\/path, s3:\/\/bucket\[\/prefix\], azure:\/\/container\[\/prefix\] or wasbs:\/\/container@account\.blob\.core\.windows\.net\[\/prefix\]\n$/m);
    expect(fs.existsSync(path.join(home, 's3:'))).toBe(false);

    const missing = await runCli(['--home', home, 'server', '--port', '0'], { env: { ...(s3!.env as Record<string, string>), FLUXOPS_ARTIFACT_ROOT: 's3://no-such-bucket/x' } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`error: artifact root s3://no-such-bucket/x: bucket 'no-such-bucket' does not exist at ${s3!.env.FLUXOPS_S3_ENDPOINT_URL}\n`);
    // Nothing was created for a server that did not start.
    expect(fs.readdirSync(home)).toEqual([]);
  });
});
