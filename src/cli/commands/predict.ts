import type { Command } from 'commander';
import { createPredictor, MODEL_FILE, parseModel } from '../../models/index.js';
import { scoreCsvFile, MODEL_ARTIFACT_DIR } from '../../workflows/index.js';
import { FluxError } from '../../core/index.js';
import { withBackend, type GlobalOptions } from '../context.js';
import { checkInputFile, checkOutputFile } from '../file-flags.js';
import { printResult } from '../output.js';

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('batch-score a CSV file with a registered model (streams; any size)')
    .requiredOption('--model <ref>', 'model reference: name@alias, name/version or name (latest)')
    .requiredOption('--input <file>', 'CSV with the model\'s input columns (other columns are passed through)')
    .requiredOption('--output <file>', 'CSV to write: the input columns plus prediction and probability (of the positive class)')
    .action(async (o: { model: string; input: string; output: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      checkInputFile('--input', o.input);
      checkOutputFile('--output', o.output);
      await withBackend(g, async (b) => {
        const mv = await b.registry.resolve(o.model);
        let text: string;
        if (b.platform !== undefined) {
          if (mv.storageLocation === '') throw new FluxError('UNSUPPORTED_MODEL_FORMAT', `${mv.name} v${mv.version} is stored outside FluxOps`);
          text = (await b.platform.artifacts.read(`${mv.storageLocation}/${MODEL_FILE}`)).toString('utf8');
        } else {
          const rel = /^runs:\/[0-9a-f]{32}\/(.*)$/.exec(mv.source)?.[1] ?? MODEL_ARTIFACT_DIR;
          text = (await b.tracking.readArtifact(mv.runId, `${rel}/${MODEL_FILE}`)).toString('utf8');
        }
        const predictor = createPredictor(parseModel(text));
        const started = Date.now();
        const result = await scoreCsvFile(predictor, o.input, o.output, (rows) => {
          if (!g.json && process.stderr.isTTY) process.stderr.write(`\rscored ${rows} rows`);
        });
        if (!g.json && process.stderr.isTTY) process.stderr.write('\n');
        const summary = { model: mv.name, version: mv.version, rows: result.rows, output: result.output, seconds: (Date.now() - started) / 1000 };
        printResult(g, summary, () => `scored ${result.rows} rows with ${mv.name} v${mv.version} → ${result.output}`);
      });
    });
}
