import fs from 'node:fs';
import type { Command } from 'commander';
import { FluxError } from '../../core/index.js';
import { exportToOnnx, loadModel } from '../../models/index.js';
import { withBackend, type GlobalOptions } from '../context.js';
import { checkOutputFile } from '../file-flags.js';
import { modelFolder } from '../model-folder.js';
import { formatNumber, formatTime, printResult, renderKeyValues, renderTable } from '../output.js';

export function registerModels(program: Command): void {
  const models = program.command('models').description('registered models, versions and aliases');
  models
    .command('list')
    .description('list registered models with their aliases')
    .option('--max-results <n>', 'at most this many models', '100')
    .action(async (o: { maxResults: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const page = await b.registry.searchRegisteredModels({ maxResults: Number(o.maxResults) });
        printResult(g, page, () =>
          renderTable(
            ['name', 'latest version', 'aliases', 'updated'],
            page.items.map((m) => [
              m.name,
              m.latestVersions.map((v) => Number(v.version)).reduce((a, v) => Math.max(a, v), 0) || '-',
              m.aliases.map((a) => `${a.alias}→v${a.version}`).join(', ') || '-',
              formatTime(m.lastUpdatedTime),
            ]),
          ),
        );
      });
    });
  models
    .command('show <name> [version]')
    .description('show a model and its versions; with a version, that version and its lineage back to run and data')
    .action(async (name: string, version: string | undefined, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        if (version !== undefined) {
          const lineage = await b.registry.lineage(name, version);
          const v = lineage.model;
          printResult(g, lineage, () =>
            [
              renderKeyValues([
                ['model', `${v.name} v${v.version}`],
                ['status', `${v.status}${v.statusMessage ? ` (${v.statusMessage})` : ''}`],
                ['aliases', v.aliases.join(', ') || '-'],
                ['stage', v.currentStage],
                ['source', v.source],
                ['registered', formatTime(v.creationTime)],
                ['inputs', (v.signature?.inputs ?? []).map((i) => `${i.name}:${i.type}`).join(', ') || '-'],
                ['run', lineage.run?.runId ?? '-'],
                ['git commit', lineage.run?.sourceVersion || '-'],
                ['data', lineage.datasets.map((d) => `${d.name} ${d.digest}`).join(', ') || '-'],
              ]),
              '\nmetrics at registration',
              renderTable(['metric', 'value'], Object.entries(v.metrics).map(([k, x]) => [k, formatNumber(x)])),
              '\nparams of the run',
              renderTable(['param', 'value'], Object.entries(lineage.run?.params ?? {})),
            ].join('\n'),
          );
          return;
        }
        const model = await b.registry.getRegisteredModel(name);
        const versions = await b.registry.searchModelVersions({ name, maxResults: 1000 });
        printResult(g, { ...model, versions: versions.items }, () =>
          [
            renderKeyValues([
              ['model', model.name],
              ['description', model.description || '-'],
              ['created', formatTime(model.creationTime)],
              ['aliases', model.aliases.map((a) => `${a.alias}→v${a.version}`).join(', ') || '-'],
            ]),
            '',
            renderTable(
              ['version', 'aliases', 'stage', 'f1', 'roc_auc', 'run', 'registered'],
              versions.items.map((v) => [
                v.version,
                v.aliases.join(', '),
                v.currentStage,
                v.metrics.f1 !== undefined ? formatNumber(v.metrics.f1) : '',
                v.metrics.roc_auc !== undefined ? formatNumber(v.metrics.roc_auc) : '',
                v.runId,
                formatTime(v.creationTime),
              ]),
            ),
          ].join('\n'),
        );
      });
    });
  models
    .command('export <ref>')
    .description('write a built-in model version as an ONNX graph that predicts what it predicts (name/version, name@alias or name)')
    .option('--format <format>', 'output format (onnx)', 'onnx')
    .option('--out <file>', 'file to write (default: <name>-v<version>.onnx in the current folder)')
    .action(async (ref: string, o: { format: string; out?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      if (o.format !== 'onnx') throw new FluxError('INVALID_PARAMETER_VALUE', `--format '${o.format}' is not supported; the export format is onnx`, { flag: '--format' });
      if (o.out !== undefined) checkOutputFile('--out', o.out);
      await withBackend(g, async (b) => {
        const mv = await b.registry.resolve(ref);
        const { files, folder } = modelFolder(b, mv);
        const model = await loadModel(files, folder);
        const bytes = exportToOnnx(model, { modelName: `${mv.name}_v${mv.version}` });
        const out = o.out ?? `${mv.name.replace(/[^A-Za-z0-9._-]+/g, '_')}-v${mv.version}.onnx`;
        if (o.out === undefined) checkOutputFile('--out', out);
        // Written beside and renamed, so the file appears only when complete.
        const tmp = `${out}.tmp-${process.pid}`;
        try {
          fs.writeFileSync(tmp, bytes);
          fs.renameSync(tmp, out);
        } catch (e) {
          fs.rmSync(tmp, { force: true });
          throw new FluxError('INVALID_PARAMETER_VALUE', `--out '${out}': ${(e as Error).message}`, { flag: '--out' });
        }
        const summary = {
          model: mv.name,
          version: mv.version,
          format: 'onnx',
          output: out,
          bytes: bytes.length,
          inputs: model.signature.inputs.map((i) => i.name),
          classes: model.target.classes,
        };
        printResult(g, summary, () => `exported ${mv.name} v${mv.version} as ONNX (${bytes.length} bytes) → ${out}\ninputs: ${summary.inputs.join(', ')}; ${summary.classes !== undefined ? `classes: ${summary.classes.join(', ')}` : 'a regressor'}`);
      });
    });
  const alias = models.command('alias').description('move or remove aliases such as production and staging');
  alias
    .command('set <model> <alias> <version>')
    .description('point <alias> at <version>; a server serving model@alias hot-swaps to it')
    .action(async (model: string, aliasName: string, version: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const v = await b.registry.setAlias(model, aliasName, version);
        printResult(g, v, () => `${model}@${aliasName} → version ${v.version}`);
      });
    });
  alias
    .command('delete <model> <alias>')
    .description('remove an alias')
    .action(async (model: string, aliasName: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        await b.registry.deleteAlias(model, aliasName);
        printResult(g, { deleted: `${model}@${aliasName}` }, () => `removed ${model}@${aliasName}`);
      });
    });
}
