import fs from 'node:fs';
import path from 'node:path';
import { type Command, Option } from 'commander';
import { uiBanner } from '../../api/index.js';
import { FluxError } from '../../core/index.js';
import { openPlatform } from '../../platform.js';
import { createFolder } from '../../storage/fs/index.js';
import { TRAIN_ALGORITHMS, generateDiabetesCsv, loadCsv } from '../../training/index.js';
import { trainAndTrack } from '../../workflows/index.js';
import type { GlobalOptions } from '../context.js';
import { checkInputFile, readInputFile } from '../file-flags.js';
import { formatNumber } from '../output.js';
import { progressBar } from '../progress.js';
import { parseParamFlags, collect } from './train.js';
import { parsePort, startServing } from './server.js';

export function registerQuickstart(program: Command): void {
  program
    .command('quickstart')
    .description('generate demo data (or use --data), train, track, register as <name>@production, create an API key, and serve it')
    .option('--port <n>', 'port to listen on', '8000')
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--data <file>', 'train on this CSV instead of the generated diabetes data')
    .option('--target <column>', 'column to predict (required with --data)')
    .option('--name <model>', 'registered model name', 'diabetes')
    .addOption(new Option('--algo <name>', 'the trainer, as for fluxops train').choices([...TRAIN_ALGORITHMS]).default('logistic_regression'))
    .option('--param <name=value>', 'hyperparameter, as for fluxops train (repeatable)', collect, [])
    .option('--rows <n>', 'rows of generated demo data', '10000')
    .option('--no-serve', 'stop after registering (do not start the server)')
    .action(async (o: { port: string; host: string; data?: string; target?: string; name: string; algo: string; param: string[]; rows: string; serve: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const port = parsePort(o.port);
      if (o.data !== undefined && o.target === undefined) throw new FluxError('INVALID_PARAMETER_VALUE', '--data needs --target <column> to say which column to predict');
      const rows = Number(o.rows);
      if (!Number.isInteger(rows) || rows < 50 || rows > 10_000_000) throw new FluxError('INVALID_PARAMETER_VALUE', '--rows must be an integer from 50 to 10000000');
      // Before the home is opened: a wrong --data is the first thing to hear about.
      if (o.data !== undefined) checkInputFile('--data', o.data);
      const platform = await openPlatform({ home: g.home });
      const say = (s: string) => process.stdout.write(`${s}\n`);
      try {
        let csvText: string;
        let dataSource: string;
        if (o.data !== undefined) {
          csvText = readInputFile('--data', o.data);
          dataSource = path.resolve(o.data);
        } else {
          csvText = generateDiabetesCsv(rows, 42);
          const file = path.join(platform.config.home, 'data', 'diabetes-demo.csv');
          createFolder(path.dirname(file), 'the demo data folder');
          fs.writeFileSync(file, csvText);
          dataSource = 'generated:diabetes';
          say(`generated ${rows} rows of demo diabetes data → ${file}`);
        }
        const target = o.target ?? 'Diabetic';
        // A home that already serves a production model keeps it: the new version becomes the
        // candidate, to promote by hand once it is judged better.
        const production = await platform.registry.getVersionByAlias(o.name, 'production').catch((e: unknown) => {
          if (e instanceof FluxError && e.code === 'RESOURCE_DOES_NOT_EXIST') return undefined;
          throw e;
        });
        const alias = production === undefined ? 'production' : 'candidate';
        const bar = progressBar('training');
        const result = await trainAndTrack(platform.tracking, platform.registry, {
          csvText,
          dataSource,
          target,
          algo: o.algo,
          params: parseParamFlags(o.param),
          experiment: 'quickstart',
          register: o.name,
          aliases: [alias],
          onProgress: (i, max) => bar.update(i, max),
          onNotice: (msg) => say(`notice: ${msg}`),
        }).finally(() => bar.stop());
        const m = result.training.metrics;
        const v = result.version!;
        const shown = HEADLINE.filter((k) => m[k] !== undefined).slice(0, 3);
        say(`trained run ${result.run.info.runId} (${result.training.algorithm}): ${shown.map((k) => `${k} ${formatNumber(m[k]!)}`).join(', ')}`);
        say(`registered ${v.name} version ${v.version} with alias ${alias} (store: ${platform.db.location})`);
        if (production !== undefined) {
          const key = shown[0]!;
          const was = production.metrics[key];
          say(
            `production stays on version ${production.version}${was !== undefined ? ` (${key} ${formatNumber(was)}; the new one has ${formatNumber(m[key]!)})` : ''}; ` +
              `to promote the candidate: fluxops models alias set ${v.name} production ${v.version}`,
          );
        }
        // A predict key scoped to this model for the curl lines, and the home's first admin key
        // (nothing over the network can make keys without one).
        const stamp = new Date().toISOString();
        const { key } = await platform.keys.create(`quickstart-${stamp}`, { role: 'predict', scopes: [`model:${v.name}`] });
        const hasAdmin = (await platform.keys.list()).some((k) => k.role === 'admin' && k.revokedAt === null && (k.expiresAt === null || k.expiresAt > Date.now()));
        const admin = hasAdmin ? undefined : (await platform.keys.create(`admin-${stamp}`, { role: 'admin' })).key;
        if (!o.serve) {
          say(`API key (predict on ${v.name}): ${key}`);
          if (admin !== undefined) say(`admin key (keys, audit; shown once): ${admin}`);
          await platform.close();
          return;
        }
        const { url } = await startServing(platform, { port, host: o.host, model: `${v.name}@production` });
        const sample = sampleRecord(csvText, result.training.featureNames);
        say('');
        say(`FluxOps is serving ${v.name}@production (v${production?.version ?? v.version}) at ${url}`);
        say(`API key (predict on ${v.name}; shown once): ${key}`);
        if (admin !== undefined) say(`admin key (creates and revokes keys, reads the audit log; shown once): ${admin}`);
        say('');
        say('Try it:');
        say(`  curl ${url}/api/health`);
        say(`  curl ${url}/api/model-info`);
        say(`  curl -X POST ${url}/api/predict -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json' \\`);
        say(`       -d '${JSON.stringify({ inputs: [sample] })}'`);
        say('');
        say(uiBanner(url));
        say(`API docs: ${url}/api/docs   metrics: ${url}/metrics   Ctrl-C to stop`);
      } catch (e) {
        await platform.close();
        throw e;
      }
    });
}

/** The metrics the quickstart prints first, in this order, when the task has them. */
const HEADLINE = ['f1', 'roc_auc', 'accuracy', 'f1_macro', 'log_loss', 'rmse', 'r2', 'mae'];

function sampleRecord(csvText: string, features: string[]): Record<string, number | string | null> {
  const head = csvText.split('\n').slice(0, 3).join('\n');
  const ds = loadCsv(head);
  const rec: Record<string, number | string | null> = {};
  for (const f of features) {
    const c = ds.columns.indexOf(f);
    const num = ds.numeric[c];
    rec[f] = num !== null && num !== undefined ? (Number.isNaN(num[0]!) ? null : num[0]!) : (ds.raw[c]?.[0] ?? null);
  }
  return rec;
}
