import { Command, CommanderError } from 'commander';
import { registerEndpoints } from './commands/endpoints.js';
import { registerRollouts } from './commands/rollouts.js';
import { registerSchedules } from './commands/schedules.js';
import { registerEvents } from './commands/events.js';
import { registerKeys } from './commands/keys.js';
import { registerWebhooks } from './commands/webhooks.js';
import { registerMonitors } from './commands/monitors.js';
import { registerInferences } from './commands/inferences.js';
import { registerAlerts } from './commands/alerts.js';
import { registerJobs } from './commands/jobs.js';
import { registerPipelines } from './commands/pipelines.js';
import { registerAudit } from './commands/audit.js';
import { registerModels } from './commands/models.js';
import { registerPredict } from './commands/predict.js';
import { registerQuickstart } from './commands/quickstart.js';
import { registerRuns } from './commands/runs.js';
import { registerServer } from './commands/server.js';
import { registerTrain } from './commands/train.js';
import { EXIT, reportError } from './output.js';

export function buildProgram(): Command {
  const program = new Command('fluxops')
    .description('FluxOps: train, track, register and serve models — on one machine or a cluster')
    .version('0.1.0')
    .option('--home <dir>', 'state folder for the embedded store (default: FLUXOPS_HOME or ./.fluxops)')
    .option('--url <url>', 'work against a running server instead of the local home (or FLUXOPS_URL)')
    .option('--api-key <key>', 'API key for routes that need one when using --url (or FLUXOPS_API_KEY)')
    .option('--json', 'print machine-readable JSON instead of tables')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerQuickstart(program);
  registerServer(program);
  registerTrain(program);
  registerRuns(program);
  registerModels(program);
  registerPredict(program);
  registerEndpoints(program);
  registerRollouts(program);
  registerSchedules(program);
  registerKeys(program);
  registerAudit(program);
  registerEvents(program);
  registerWebhooks(program);
  registerMonitors(program);
  registerInferences(program);
  registerAlerts(program);
  registerPipelines(program);
  registerJobs(program);
  const override = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.commands.forEach(override);
  };
  override(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    // A command that finished but failed a check (a promotion gate) sets its own exit code.
    return typeof process.exitCode === 'number' && process.exitCode !== 0 ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      return EXIT.invalid; // commander already printed the message
    }
    return reportError(e);
  }
}
