import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, startCli, stop } from '../helpers/cli.js';
import { freshHome } from '../helpers/server.js';

const READY = /serving (\S+)@production \(v(\d+)\) at (http:\/\/[\d.]+:\d+)\nAPI key \(predict on \S+; shown once\): (flx_\S+)\n(?:admin key \([^)]*\): (flx_\S+)\n)?[\s\S]*Ctrl-C to stop/;

describe('fluxops quickstart (the README command, as a child process)', () => {
  let home: string;
  beforeAll(() => {
    assertBuilt();
    home = freshHome('fluxops-quickstart-');
  });
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  it('trains, registers diabetes@production, creates a key and answers curl-style requests; a second run registers version 2 as candidate and keeps serving version 1', async () => {
    for (const run of [1, 2]) {
      // The production model stays version 1: the second run's model is only a candidate.
      const expected = '1';
      const { child, match, stdout } = await startCli(['quickstart', '--port', '0', '--home', home], READY);
      try {
        if (run === 2) {
          expect(stdout()).toContain('registered diabetes version 2 with alias candidate');
          expect(stdout()).toMatch(/production stays on version 1 \(f1 [\d.]+; the new one has [\d.]+\); to promote the candidate: fluxops models alias set diabetes production 2/);
        } else expect(stdout()).toContain('registered diabetes version 1 with alias production');
        const [, name, version, url, key, admin] = match;
        // The first run prints the home's first admin key; later runs do not make another.
        if (run === 1) expect(admin).toMatch(/^flx_/);
        else expect(admin).toBeUndefined();
        // The printed predict key predicts but cannot manage keys.
        const asPredict = await fetch(`${url}/api/v1/keys`, { headers: { authorization: `Bearer ${key}` } });
        expect(asPredict.status).toBe(403);
        expect(name).toBe('diabetes');
        expect(version).toBe(expected);
        expect(stdout()).toContain('curl');
        const health = await fetch(`${url}/api/health`);
        expect(health.status).toBe(200);
        const info = (await (await fetch(`${url}/api/model-info`)).json()) as { version: string };
        expect(info.version).toBe(expected);
        // The exact curl line the quickstart printed, run through fetch.
        const body = /-d '(.+)'/.exec(stdout())![1]!;
        const res = await fetch(`${url}/api/predict`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });
        expect(res.status).toBe(200);
        const pred = (await res.json()) as { predictions: number[]; version: string };
        expect(pred.version).toBe(expected);
        expect([0, 1]).toContain(pred.predictions[0]);
      } finally {
        expect(await stop(child)).toBe(0);
      }
    }
  });
});
