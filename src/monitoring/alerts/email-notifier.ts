import nodemailer, { type Transporter } from 'nodemailer';
import addressparser, { type MailboxAddress } from 'nodemailer/lib/addressparser';
import { FluxError, invalid } from '../../core/index.js';
import type { SlackBlock, SlackMessage } from '../../webhooks/index.js';
import type { AlertNotification } from './alert-evaluator.js';

export interface EmailNotifierOptions {
  /** `smtp://user:pass@host:port` (STARTTLS when offered; port 587 by default) or `smtps://…` (TLS from the start; 465). */
  url: string;
  /** One address, `alerts@example.com` or `FluxOps <alerts@example.com>`. */
  from: string;
  /** One or more addresses: an array, or one comma-separated string. */
  to: string | readonly string[];
  /** The most one send may take, connecting included (default 10 s): a dead server fails it instead of hanging the evaluator. */
  timeoutMs?: number;
  /** For smtp://: refuse to send (and to log in) unless STARTTLS succeeds. */
  requireTls?: boolean;
  /** Check the server's certificate (default true); false only for a test relay with a self-signed one. */
  rejectUnauthorized?: boolean;
}

export const DEFAULT_EMAIL_TIMEOUT_MS = 10_000;

interface SmtpTarget {
  secure: boolean;
  host: string;
  port: number;
  user: string | undefined;
  pass: string | undefined;
}

/**
 * Sends alert notifications by email through one SMTP relay. The password lives only in a private
 * field and in nodemailer's options behind it: errors, `toString()` and JSON show the URL with the
 * password replaced by `***`, and nodemailer's own logging stays off (its debug mode writes the AUTH
 * exchange). Each send opens its own connection, since alerts are rare and a pooled connection
 * would only go stale between them.
 */
export class EmailNotifier {
  readonly from: string;
  readonly to: readonly string[];
  readonly timeoutMs: number;
  /** The URL with its password hidden, for logs and errors. */
  readonly server: string;
  readonly #transport: Transporter;
  readonly #secrets: string[];
  readonly #from: MailboxAddress;
  readonly #to: MailboxAddress[];

  constructor(options: EmailNotifierOptions) {
    const target = parseSmtpUrl(options.url);
    this.server = redactedUrl(target);
    this.#from = parseAddresses(options.from, 'from', true)[0]!;
    const to: unknown = options.to;
    if (typeof to !== 'string' && !Array.isArray(to)) throw invalid('to must be an email address or a list of them', { field: 'to' });
    this.#to = (typeof to === 'string' ? [to] : (to as unknown[])).flatMap((a, i) => parseAddresses(a, typeof to === 'string' ? 'to' : `to[${i}]`, false));
    if (this.#to.length === 0) throw invalid('to must name at least one address', { field: 'to' });
    this.from = showAddress(this.#from);
    this.to = this.#to.map(showAddress);
    const timeoutMs = options.timeoutMs ?? DEFAULT_EMAIL_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw invalid(`timeoutMs must be a whole number of milliseconds greater than 0; got ${String(timeoutMs)}`, { field: 'timeoutMs' });
    this.timeoutMs = timeoutMs;
    this.#secrets = secretForms(target);
    this.#transport = nodemailer.createTransport({
      host: target.host,
      port: target.port,
      secure: target.secure,
      requireTLS: options.requireTls === true,
      ...(target.user !== undefined ? { auth: { user: target.user, pass: target.pass ?? '' } } : {}),
      tls: { rejectUnauthorized: options.rejectUnauthorized ?? true },
      // Every phase is bounded by the send's own deadline as well (the abort signal in send()).
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      dnsTimeout: timeoutMs,
      socketCloseTimeout: 0,
      logger: false,
      debug: false,
    });
    // Only an OAuth2 transport emits 'error'; a listener keeps a stray one from crashing the process (sends report their own).
    this.#transport.on('error', () => undefined);
  }

  /** Sends one notification, or rejects with TEMPORARILY_UNAVAILABLE (never showing the password) within timeoutMs. */
  async send(n: AlertNotification): Promise<void> {
    const { subject, text, html } = alertEmail(n);
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      await this.#transport.sendMail({ from: this.#from, to: this.#to, subject, text, html, signal, headers: { 'X-FluxOps-Alert': n.rule.replace(/[\r\n]+/g, ' ') } });
    } catch (e) {
      throw this.#failure('sending the alert email', e, signal.aborted);
    }
  }

  /** Connects and logs in without sending: for a "test the settings" action. */
  async verify(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    try {
      // verify() takes no signal; the race bounds it the same way.
      await Promise.race([
        this.#transport.verify(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            timedOut = true;
            reject(new Error('timed out'));
          }, this.timeoutMs);
        }),
      ]);
    } catch (e) {
      throw this.#failure('checking the SMTP settings', e, timedOut);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.#transport.close();
  }

  toString(): string {
    return `EmailNotifier(${this.server} → ${this.to.join(', ')})`;
  }

  toJSON(): Record<string, unknown> {
    return { server: this.server, from: this.from, to: this.to, timeoutMs: this.timeoutMs };
  }

  #failure(what: string, e: unknown, timedOut: boolean): FluxError {
    const code = typeof (e as { code?: unknown })?.code === 'string' ? (e as { code: string }).code : undefined;
    const reason = timedOut ? `no answer within ${this.timeoutMs} ms` : redact(e instanceof Error ? e.message : String(e), this.#secrets);
    return new FluxError('TEMPORARILY_UNAVAILABLE', `${what} via ${this.server} failed: ${reason}`, { server: this.server, ...(code !== undefined ? { code } : {}), timedOut });
  }
}

/** Reads an SMTP URL; refusals never repeat the URL, since it may hold a password. */
function parseSmtpUrl(url: string): SmtpTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalid('url must be an SMTP URL such as smtp://user:password@mail.example.com:587 (the value given is not a URL; it is not repeated here as it may hold a password)', { field: 'url' });
  }
  if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') throw invalid(`url must start with smtp:// or smtps://; got ${u.protocol}//`, { field: 'url' });
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw invalid('url must name the SMTP host, as in smtp://mail.example.com:587', { field: 'url' });
  if ((u.pathname !== '' && u.pathname !== '/') || u.search !== '' || u.hash !== '') throw invalid('url must be only smtp[s]://[user:password@]host[:port]: no path, query or fragment', { field: 'url' });
  const secure = u.protocol === 'smtps:';
  const user = u.username === '' ? undefined : decode(u.username, 'user');
  const pass = u.password === '' ? undefined : decode(u.password, 'password');
  if (user === undefined && pass !== undefined) throw invalid('url has a password but no user', { field: 'url' });
  if (user !== undefined && pass === undefined) throw invalid(`url names the user '${user}' but no password (smtp://user:password@host)`, { field: 'url' });
  return { secure, host, port: u.port === '' ? (secure ? 465 : 587) : Number(u.port), user, pass };
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw invalid(`url: the ${what} is not validly percent-encoded`, { field: 'url' });
  }
}

function redactedUrl(t: SmtpTarget): string {
  const auth = t.user !== undefined ? `${encodeURIComponent(t.user)}:***@` : '';
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return `${t.secure ? 'smtps' : 'smtp'}://${auth}${host}:${t.port}`;
}

/** The password as it could appear in a server's or nodemailer's message: plain, percent-encoded, and inside AUTH PLAIN/LOGIN's base64. */
function secretForms(t: SmtpTarget): string[] {
  if (t.pass === undefined || t.pass === '') return [];
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  return [t.pass, encodeURIComponent(t.pass), b64(t.pass), b64(`\u0000${t.user ?? ''}\u0000${t.pass}`)].sort((a, b) => b.length - a.length);
}

function redact(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const s of secrets) out = out.split(s).join('***');
  return out;
}

/** One or more addresses; only a single mailbox when `single`. CR and LF are refused outright (header injection). */
function parseAddresses(value: unknown, field: string, single: boolean): MailboxAddress[] {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(`${field} must be an email address such as alerts@example.com`, { field });
  if (/[\r\n]/.test(value)) throw invalid(`${field} must not contain line breaks`, { field });
  const parsed = addressparser(value);
  const boxes = parsed.flatMap((a) => (a.group === undefined ? [a] : []));
  const bad = parsed.length !== boxes.length || boxes.length === 0 || boxes.some((b) => !/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(b.address));
  if (bad) throw invalid(`${field} must be an email address such as alerts@example.com or "FluxOps <alerts@example.com>"; got ${JSON.stringify(value)}`, { field });
  if (single && boxes.length > 1) throw invalid(`${field} must be a single address; got ${boxes.length}`, { field });
  return boxes.map((b) => ({ name: b.name, address: b.address }));
}

const showAddress = (a: MailboxAddress) => (a.name !== '' ? `${a.name} <${a.address}>` : a.address);

/** What the alert is about, for the subject: the endpoint, monitor or check it watches. */
function alertTarget(n: AlertNotification): string | undefined {
  return n.labels.endpoint ?? n.labels.monitor ?? n.labels.check;
}

/** `[FIRING:critical] endpoint-errors on diabetes` (Alertmanager's subject, with the target named). */
export function alertSubject(n: AlertNotification): string {
  const target = alertTarget(n);
  return `[${n.state.toUpperCase()}:${n.severity}] ${n.rule}${target !== undefined ? ` on ${target}` : ''}`.replace(/[\r\n]+/g, ' ');
}

/** A value as people read it: whole numbers as they are, others to four significant digits. */
export function formatAlertValue(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return 'no data';
  if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1000 ? v.toFixed(1) : String(Number(v.toPrecision(4)));
}

function facts(n: AlertNotification): Array<[string, string]> {
  const rows: Array<[string, string]> = [
    ['Rule', n.rule],
    ['State', n.state],
    ['Severity', n.severity],
    ['Value', formatAlertValue(n.value)],
    ['Threshold', formatAlertValue(n.threshold)],
    ['Started', n.startsAt.toISOString()],
  ];
  if (n.endsAt !== undefined) rows.push(['Ended', n.endsAt.toISOString()]);
  const labels = Object.entries(n.labels);
  if (labels.length > 0) rows.push(['Labels', labels.map(([k, v]) => `${k}=${v}`).join(', ')]);
  if (n.url !== undefined) rows.push(['Link', n.url]);
  return rows;
}

const html = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The email of a notification: subject, plain text, and a simple HTML version of the same. */
export function alertEmail(n: AlertNotification): { subject: string; text: string; html: string } {
  const subject = alertSubject(n);
  const rows = facts(n);
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  const text = [subject, '', n.summary, '', ...rows.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}`), ''].join('\n');
  const color = n.state === 'resolved' ? '#2e7d32' : n.severity === 'critical' ? '#c62828' : n.severity === 'warning' ? '#ef6c00' : '#1565c0';
  const cells = rows
    .map(([k, v]) => {
      const value = k === 'Link' && /^https?:\/\//i.test(v) ? `<a href="${html(v)}">${html(v)}</a>` : html(v);
      return `<tr><th align="left" style="padding:2px 12px 2px 0">${html(k)}</th><td>${value}</td></tr>`;
    })
    .join('');
  const body = `<!doctype html><html><body style="font-family:sans-serif"><h2 style="color:${color}">${html(subject)}</h2><p>${html(n.summary)}</p><table>${cells}</table></body></html>`;
  return { subject, text, html: body };
}

/** Slack's mrkdwn treats &, < and > as markup; values are escaped so they cannot make links or mentions (as src/webhooks does). */
const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const code = (v: string) => `\`${esc(v).replace(/`/g, "'")}\``;

/**
 * The notification as a Slack incoming-webhook message, the SlackMessage shape the webhooks
 * context posts: `text` is the notification (and the fallback), blocks add labels and the link.
 */
export function slackText(n: AlertNotification): SlackMessage {
  const icon = n.state === 'resolved' ? ':white_check_mark:' : n.severity === 'critical' ? ':rotating_light:' : n.severity === 'warning' ? ':warning:' : ':information_source:';
  const target = alertTarget(n);
  const text = `${icon} *[${n.state.toUpperCase()}:${esc(n.severity)}]* ${code(n.rule)}${target !== undefined ? ` on ${code(target)}` : ''}: ${esc(n.summary)} (value ${formatAlertValue(n.value)}, threshold ${formatAlertValue(n.threshold)})`;
  const context = [
    n.state === 'resolved' && n.endsAt !== undefined ? `from ${n.startsAt.toISOString()} to ${n.endsAt.toISOString()}` : `since ${n.startsAt.toISOString()}`,
    ...Object.entries(n.labels).map(([k, v]) => `${esc(k)}=${code(v)}`),
    ...(n.url !== undefined && /^https?:\/\//i.test(n.url) ? [`<${n.url.replace(/[<>|]/g, encodeURIComponent)}|open in FluxOps>`] : []),
  ].join(' · ');
  const blocks: SlackBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: context }] },
  ];
  return { text, blocks };
}
