import { type Command, Option } from 'commander';
import { TRAIN_ALGORITHMS } from '../../training/index.js';
import { FluxError } from '../../core/index.js';
import { parseImprovement, trainAndTrack } from '../../workflows/index.js';
import { withBackend, type GlobalOptions } from '../context.js';
import { readInputFile } from '../file-flags.js';
import { EXIT, formatNumber, printResult, renderKeyValues } from '../output.js';
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
    .description('train a built-in model (logistic regression or gradient-boosted trees) on a CSV file, record the run, optionally register the model')
    .requiredOption('--data <file>', 'CSV file with a header row')
    .requiredOption('--target <column>', 'column to predict (logistic_regression: binary; gbdt: classes or a number)')
    .addOption(new Option('--algo <name>', 'the trainer').choices([...TRAIN_ALGORITHMS]).default('logistic_regression'))
    .option('--exclude <columns>', 'comma-separated columns to leave out of the features')
    .option('--categorical <columns>', 'gbdt: comma-separated numeric columns to treat as categories (text columns always are)')
    .option(
      '--param <name=value>',
      'hyperparameter (repeatable); logistic_regression: C, max_iter, solver (lbfgs|newton|liblinear|saga), tol, test_size, seed; gbdt: learning_rate, max_iter, max_leaf_nodes, max_depth, min_samples_leaf, l2_regularization, max_bins, early_stopping, validation_fraction, n_iter_no_change, tol, class_weight, loss, threads, test_size, seed (see docs/training.md)',
      collect,
      [],
    )
    .option('--experiment <name>', 'experiment to record the run in (created when absent; default: Default)')
    .option('--run-name <name>', 'name of the run')
    .option('--register <model>', 'register the trained model under this name')
    .option('--alias <alias>', 'point this alias at the new version (repeatable; needs --register)', collect, [])
    .option('--require-improvement <metric[:delta]>', 'move each --alias only when the new model beats the version it points at on this metric (by at least delta), such as f1 or f1:0.01; otherwise register without moving it and exit 6')
    .action(async (o: { data: string; target: string; algo: string; exclude?: string; categorical?: string; param: string[]; experiment?: string; runName?: string; register?: string; alias: string[]; requireImprovement?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const rule = o.requireImprovement === undefined ? undefined : parseImprovement(o.requireImprovement);
      if (rule !== undefined && o.alias.length === 0) throw new FluxError('INVALID_PARAMETER_VALUE', '--require-improvement gates the move of an alias: pass --register <model> --alias <alias> too', { field: '--require-improvement' });
      const csvText = readInputFile('--data', o.data);
      const params = parseParamFlags(o.param);
      const bar = progressBar('training', !g.json);
      const result = await withBackend(g, (b) =>
        trainAndTrack(b.tracking, b.registry, {
          csvText,
          dataSource: o.data,
          target: o.target,
          exclude: o.exclude?.split(',').map((s) => s.trim()).filter((s) => s !== ''),
          algo: o.algo,
          categorical: o.categorical?.split(',').map((s) => s.trim()).filter((s) => s !== ''),
          params,
          experiment: o.experiment,
          runName: o.runName,
          register: o.register,
          aliases: o.alias,
          requireImprovement: rule,
          onProgress: (i, max) => bar.update(i, max),
          onNotice: (msg) => process.stderr.write(`notice: ${msg}\n`),
        }),
      ).finally(() => bar.stop());
      const m = result.training.metrics;
      printResult(
        g,
        { run: result.run, algorithm: result.training.algorithm, task: result.training.task, metrics: m, params: result.training.params, featureImportance: result.training.featureImportance, version: result.version, gates: result.gates, notices: result.training.notices },
        () =>
          renderKeyValues([
            ['run', result.run.info.runId],
            ['experiment', result.run.info.experimentId],
            ['rows (train/test)', `${result.training.trainRows}/${result.training.testRows}`],
            ['algo', `${result.training.algorithm} (${result.training.task}, ${result.training.iterations} iterations)`],
            ...Object.entries(m).map(([k, v]) => [k, formatNumber(v)] as [string, unknown]),
            ['data sha256', result.training.fingerprint.sha256],
            ...(result.version ? ([['registered', `${result.version.name} v${result.version.version}${result.version.aliases.length ? ` (${result.version.aliases.join(', ')})` : ''}`]] as Array<[string, unknown]>) : []),
            ...(result.gates ?? []).map((x) => [`${x.alias}`, `${x.verdict.improved ? 'moved' : 'not moved'}: ${x.verdict.reason}`] as [string, unknown]),
          ]),
      );
      const refused = (result.gates ?? []).filter((x) => !x.verdict.improved);
      if (refused.length > 0) {
        for (const x of refused) process.stderr.write(`${o.register}@${x.alias} was not moved: ${x.verdict.reason}\n`);
        process.exitCode = EXIT.notImproved;
      }
    });
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
