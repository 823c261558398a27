import type { Command } from 'commander';
import { loadPredictor } from '../../models/index.js';
import { scoreCsvFile } from '../../workflows/index.js';
import { withBackend, type GlobalOptions } from '../context.js';
import { checkInputFile, checkOutputFile } from '../file-flags.js';
import { modelFolder } from '../model-folder.js';
import { printResult } from '../output.js';

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('batch-score a CSV file with a registered model, built-in or ONNX (streams; any size)')
    .requiredOption('--model <ref>', 'model reference: name@alias, name/version or name (latest)')
    .requiredOption('--input <file>', 'CSV with the model\'s input columns (other columns are passed through)')
    .requiredOption('--output <file>', 'CSV to write: the input columns plus prediction, and probability (of the positive class; probability_<class> per class for a multiclass model)')
    .action(async (o: { model: string; input: string; output: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      checkInputFile('--input', o.input);
      checkOutputFile('--output', o.output);
      await withBackend(g, async (b) => {
        const mv = await b.registry.resolve(o.model);
        const { files, folder } = modelFolder(b, mv);
        const { predictor } = await loadPredictor(files, folder);
        const started = Date.now();
        const result = await scoreCsvFile(predictor, o.input, o.output, (rows) => {
          if (!g.json && process.stderr.isTTY) process.stderr.write(`\rscored ${rows} rows`);
        }).finally(() => predictor.close?.());
        if (!g.json && process.stderr.isTTY) process.stderr.write('\n');
        const summary = { model: mv.name, version: mv.version, rows: result.rows, output: result.output, seconds: (Date.now() - started) / 1000 };
        printResult(g, summary, () => `scored ${result.rows} rows with ${mv.name} v${mv.version} → ${result.output}`);
      });
    });
}
