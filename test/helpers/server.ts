import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp, type App } from '../../src/api/index.js';
import type { AuthMode } from '../../src/http/index.js';
import { createLogger } from '../../src/logging/index.js';
import { openPlatform, type Platform } from '../../src/platform.js';
import { generateDiabetesCsv } from '../../src/training/index.js';
import { trainAndTrack } from '../../src/workflows/index.js';

export interface TestServer {
  app: App;
  url: string;
  platform: Platform;
  home: string;
  key: string;
  close(): Promise<void>;
}

export function freshHome(prefix = 'fluxops-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Trains on generated data and registers `diabetes` with the given aliases. */
export async function seedModel(platform: Platform, opts: { rows?: number; seed?: number; aliases?: string[]; params?: Record<string, string> } = {}) {
  return trainAndTrack(platform.tracking, platform.registry, {
    csvText: generateDiabetesCsv(opts.rows ?? 1500, opts.seed ?? 7),
    dataSource: 'generated:diabetes',
    target: 'Diabetic',
    register: 'diabetes',
    aliases: opts.aliases ?? ['production'],
    params: opts.params,
  });
}

/** The real server on a free port over a fresh home; optionally with a served, trained model. */
export async function startTestServer(
  opts: { model?: string | undefined; seed?: boolean; aliasPollMs?: number; databaseUrl?: string | undefined; home?: string; auth?: AuthMode; artifactsMode?: 'proxied' | 'direct' } = {},
): Promise<TestServer> {
  const home = opts.home ?? freshHome();
  const platform = await openPlatform({ home, databaseUrl: opts.databaseUrl, artifactsMode: opts.artifactsMode });
  if (opts.seed ?? opts.model !== undefined) await seedModel(platform);
  // An admin key; the server's policy is the CLI's on loopback (auth off) unless told otherwise.
  const { key } = await platform.keys.create('test', { role: 'admin' });
  const app = await buildApp({ platform, model: opts.model, logger: createLogger({ level: 'silent' }), aliasPollMs: opts.aliasPollMs, auth: opts.auth ?? 'off' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    platform,
    home,
    key,
    close: async () => {
      await app.close();
      await platform.close();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

export const SAMPLE = {
  Pregnancies: 2,
  PlasmaGlucose: 150,
  DiastolicBloodPressure: 80,
  TricepsThickness: 30,
  SerumInsulin: 100,
  BMI: 35.2,
  DiabetesPedigree: 0.5,
  Age: 45,
};
