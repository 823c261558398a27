import type { Command } from 'commander';
import { FluxError } from '../../core/index.js';
import { trainAndTrack } from '../../workflows/index.js';
import { withBackend, type GlobalOptions } from '../context.js';
import { readInputFile } from '../file-flags.js';
import { formatNumber, printResult, renderKeyValues } from '../output.js';
import { progressBar } from '../progress.js';

export function parseParamFlags(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const m = /^([^=]+)=(.*)$/.exec(v);
    if (m === null) throw new FluxError('INVALID_PARAMETER_VALUE', `--param '${v}' must look like name=value, for example C=0.5`);
    out[m[1]!.trim()] = m[2]!.trim();
  }
  return out;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train the built-in logistic regression on a CSV file, record the run, optionally register the model')
    .requiredOption('--data <file>', 'CSV file with a header row')
    .requiredOption('--target <column>', 'binary column to predict')
    .option('--exclude <columns>', 'comma-separated columns to leave out of the features')
    .option('--param <name=value>', 'hyperparameter: C, max_iter, solver (lbfgs|newton|liblinear|saga), tol, test_size, seed (repeatable)', collect, [])
    .option('--experiment <name>', 'experiment to record the run in (created when absent; default: Default)')
    .option('--run-name <name>', 'name of the run')
    .option('--register <model>', 'register the trained model under this name')
    .option('--alias <alias>', 'point this alias at the new version (repeatable; needs --register)', collect, [])
    .action(async (o: { data: string; target: string; exclude?: string; param: string[]; experiment?: string; runName?: string; register?: string; alias: string[] }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const csvText = readInputFile('--data', o.data);
      const params = parseParamFlags(o.param);
      const bar = progressBar('training', !g.json);
      const result = await withBackend(g, (b) =>
        trainAndTrack(b.tracking, b.registry, {
          csvText,
          dataSource: o.data,
          target: o.target,
          exclude: o.exclude?.split(',').map((s) => s.trim()).filter((s) => s !== ''),
          params,
          experiment: o.experiment,
          runName: o.runName,
          register: o.register,
          aliases: o.alias,
          onProgress: (i, max) => bar.update(i, max),
          onNotice: (msg) => process.stderr.write(`notice: ${msg}\n`),
        }),
      ).finally(() => bar.stop());
      const m = result.training.metrics;
      printResult(
        g,
        { run: result.run, metrics: m, params: result.training.params, version: result.version, notices: result.training.notices },
        () =>
          renderKeyValues([
            ['run', result.run.info.runId],
            ['experiment', result.run.info.experimentId],
            ['rows (train/test)', `${result.training.trainRows}/${result.training.testRows}`],
            ['accuracy', formatNumber(m.accuracy)],
            ['precision', formatNumber(m.precision)],
            ['recall', formatNumber(m.recall)],
            ['f1', formatNumber(m.f1)],
            ['roc_auc', formatNumber(m.roc_auc)],
            ['log_loss', formatNumber(m.log_loss)],
            ['data sha256', result.training.fingerprint.sha256],
            ...(result.version ? ([['registered', `${result.version.name} v${result.version.version}${result.version.aliases.length ? ` (${result.version.aliases.join(', ')})` : ''}`]] as Array<[string, unknown]>) : []),
          ]),
      );
    });
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
