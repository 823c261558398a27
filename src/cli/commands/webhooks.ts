import type { Command } from 'commander';
import { FluxError } from '../../core/index.js';
import { DELIVERY_STATES, WEBHOOK_FORMATS, type DeliveryState, type Webhook, type WebhookDelivery, type WebhookFormat } from '../../webhooks/index.js';
import { withBackend, type GlobalOptions } from '../context.js';
import { EXIT, formatTime, printResult, renderKeyValues, renderTable } from '../output.js';

function describeFilter(w: Webhook): string {
  const parts = [w.filter.model !== null ? `model=${w.filter.model}` : '', w.filter.endpoint !== null ? `endpoint=${w.filter.endpoint}` : ''].filter((p) => p !== '');
  return parts.join(' ') || '-';
}

/** What each attempt got: `500 500 200`, or the error's first words when there was no answer. */
function attemptsOf(d: WebhookDelivery): string {
  return d.history.map((a) => (a.status !== null ? String(a.status) : 'no-answer')).join(' ') || '-';
}

function deliveryLine(d: WebhookDelivery): string {
  return renderKeyValues([
    ['delivery', d.id],
    ['event', d.eventType],
    ['state', d.state],
    ['status', d.lastStatus ?? '-'],
    ['attempts', `${d.attempts} (${attemptsOf(d)})`],
    ...(d.lastError !== null ? ([['error', d.lastError]] as Array<[string, unknown]>) : []),
    ...(d.lastResponse !== null && d.lastResponse !== '' ? ([['response', d.lastResponse.slice(0, 200)]] as Array<[string, unknown]>) : []),
  ]);
}

/**
 * The webhook's URL: the second argument or --to. `--url` is the global option naming the FluxOps
 * server (commander hands it to the program wherever it stands), so one given after `create` is
 * refused with a sentence rather than taken as the server.
 */
function targetUrl(arg: string | undefined, to: string | undefined): string {
  const argv = process.argv;
  const create = argv.indexOf('create', argv.indexOf('webhooks'));
  if (create >= 0 && argv.slice(create + 1).some((a) => a === '--url' || a.startsWith('--url='))) {
    throw new FluxError('INVALID_PARAMETER_VALUE', "--url names the FluxOps server; give the webhook's URL as the argument after its name (or --to URL)");
  }
  if (arg !== undefined && to !== undefined && arg !== to) throw new FluxError('INVALID_PARAMETER_VALUE', 'give the webhook URL once: as the argument after the name, or --to');
  const url = arg ?? to;
  if (url === undefined) throw new FluxError('INVALID_PARAMETER_VALUE', 'the webhook URL is missing: fluxops webhooks create NAME https://receiver.example/hook --events model.*');
  return url;
}

export function registerWebhooks(program: Command): void {
  const webhooks = program.command('webhooks').description('webhooks: events POSTed, signed (HMAC-SHA256) and retried, to a URL (admin)');
  webhooks
    .command('create <name> [url]')
    .description('subscribe a URL (the http:// or https:// URL deliveries are POSTed to; or --to) to events; the signing secret is printed once')
    .option('--to <url>', 'the URL deliveries are POSTed to (instead of the second argument)')
    .requiredOption('--events <patterns>', "event type patterns, comma-separated: 'model.*,pipeline.run.failed' or '*'")
    .option('--format <format>', `body format: ${WEBHOOK_FORMATS.join(' or ')} (a Slack incoming-webhook message)`, 'fluxops')
    .option('--secret <secret>', 'the signing secret (16+ characters; default: generated)')
    .option('--model <name>', 'only events about this model')
    .option('--endpoint <name>', 'only events about this endpoint')
    .option('--disabled', 'create it disabled (no deliveries until enabled)')
    .action(async (name: string, url: string | undefined, o: { to?: string; events: string; format: string; secret?: string; model?: string; endpoint?: string; disabled?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const target = targetUrl(url, o.to);
      await withBackend(g, async (b) => {
        const filter = o.model !== undefined || o.endpoint !== undefined ? { model: o.model, endpoint: o.endpoint } : undefined;
        const { webhook, secret } = await b.webhooks.createWebhook({
          name,
          url: target,
          events: o.events,
          format: o.format as WebhookFormat,
          secret: o.secret,
          filter,
          enabled: o.disabled === true ? false : undefined,
        });
        printResult(g, { ...webhook, secret }, () =>
          `${secret}\n(webhook ${webhook.id} '${webhook.name}' → ${webhook.url}, events ${webhook.events.join(',')}, format ${webhook.format}${filter !== undefined ? `, ${describeFilter(webhook)}` : ''}; ` +
          'this is its signing secret: store it with the receiver now, it is not shown again)',
        );
      });
    });
  webhooks
    .command('list')
    .description('list webhooks (never their secrets)')
    .action(async (_o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const list = await b.webhooks.listWebhooks();
        printResult(g, list, () =>
          renderTable(
            ['id', 'name', 'url', 'events', 'filter', 'format', 'enabled', 'created'],
            list.map((w) => [w.id, w.name, w.url, w.events.join(','), describeFilter(w), w.format, w.enabled ? 'yes' : 'no', formatTime(w.createdAt)]),
          ),
        );
      });
    });
  webhooks
    .command('test <webhook>')
    .description('send a signed webhook.test delivery now (once) and print how the receiver answered; exit 1 when it did not take it')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const d = await b.webhooks.testWebhook(ref);
        printResult(g, d, () => deliveryLine(d));
        if (d.state !== 'succeeded') process.exitCode = EXIT.failure;
      });
    });
  webhooks
    .command('deliveries <webhook>')
    .description("a webhook's deliveries, newest first: event, state, attempts with each status, the last error")
    .option('--limit <n>', 'at most this many (1 to 1000)', '50')
    .option('--state <state>', `only deliveries in this state: ${DELIVERY_STATES.join(', ')}`)
    .action(async (ref: string, o: { limit: string; state?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new FluxError('INVALID_PARAMETER_VALUE', `--limit must be an integer from 1 to 1000, got '${o.limit}'`);
      if (o.state !== undefined && !(DELIVERY_STATES as readonly string[]).includes(o.state)) {
        throw new FluxError('INVALID_PARAMETER_VALUE', `--state must be one of ${DELIVERY_STATES.join(', ')}, got '${o.state}'`);
      }
      await withBackend(g, async (b) => {
        const list = await b.webhooks.webhookDeliveries(ref, { limit, state: o.state as DeliveryState | undefined });
        printResult(g, list, () =>
          renderTable(
            ['delivery', 'event', 'seq', 'state', 'attempts', 'statuses', 'last error', 'created', 'next attempt'],
            list.map((d) => [
              d.id,
              d.eventType,
              d.eventSeq ?? '-',
              d.state,
              `${d.attempts}/${d.maxAttempts}`,
              attemptsOf(d),
              (d.lastError ?? '-').slice(0, 60),
              formatTime(d.createdAt),
              d.state === 'pending' ? formatTime(d.nextAttemptAt) : '-',
            ]),
          ),
        );
      });
    });
  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    webhooks
      .command(`${verb} <webhook>`)
      .description(enabled ? 'deliver events to it again (from now on)' : 'stop delivering to it (its pending deliveries fail)')
      .action(async (ref: string, _o: unknown, cmd: Command) => {
        const g = cmd.optsWithGlobals<GlobalOptions>();
        await withBackend(g, async (b) => {
          const w = await b.webhooks.setWebhookEnabled(ref, enabled);
          printResult(g, w, () => `webhook ${w.name} (${w.id}) is ${w.enabled ? 'enabled' : 'disabled'}`);
        });
      });
  }
  webhooks
    .command('delete <webhook>')
    .description('delete a webhook and its deliveries')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await withBackend(g, async (b) => {
        const w = await b.webhooks.getWebhook(ref);
        await b.webhooks.deleteWebhook(w.id);
        printResult(g, { deleted: w.id, name: w.name }, () => `deleted webhook ${w.name} (${w.id})`);
      });
    });
}
