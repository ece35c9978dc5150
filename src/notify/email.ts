/**
 * A mailbox (or a few) as a channel: one email per notice over SMTP, with nodemailer.
 *
 * The message has the rendered title as its subject, a plain-text part and an HTML
 * part saying the same words, and the notice's action links (`details.actions`,
 * `[{ label, url }]`) in both. Every value in the HTML is escaped: environment
 * names, teams and texts are written by users.
 *
 * `secure`: 'tls' connects with TLS from the first byte (usually port 465);
 * 'starttls' connects in plain text and refuses to go on unless the server upgrades
 * to TLS (usually 587); 'none' never uses TLS (a relay on a trusted network).
 *
 * Errors say what happened and what to fix, and never carry the password: the
 * messages are written here, not copied from nodemailer or the server.
 */
import nodemailer from 'nodemailer';
import type { Mail } from 'nodemailer';
import type { Notice } from '../engine/ports.js';
import { CHANNEL_TIMEOUT_MS, DeliveryError } from './channel.js';
import type { Channel } from './channel.js';
import { render } from './render.js';
import type { RenderedNotice } from './render.js';

export type SmtpSecurity = 'tls' | 'starttls' | 'none';

export interface EmailChannelOptions {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly secure: SmtpSecurity;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly from: string;
  readonly to: readonly string[];
  /** false accepts any certificate (a test server); default true. */
  readonly rejectUnauthorized?: boolean | undefined;
}

export interface EmailAction {
  readonly label: string;
  readonly url: string;
}

interface SmtpError {
  code?: string;
  responseCode?: number;
  command?: string;
  recipient?: string;
  rejectedErrors?: SmtpError[];
}

export class EmailChannel implements Channel {
  readonly kind = 'email' as const;
  readonly name: string;
  private readonly transport: Mail;

  constructor(private readonly options: EmailChannelOptions) {
    this.name = options.name;
    if (options.to.length === 0) throw new Error(`email channel ${options.name}: no recipients`);
    this.transport = nodemailer.createTransport({
      host: options.host,
      port: options.port,
      secure: options.secure === 'tls',
      requireTLS: options.secure === 'starttls',
      ignoreTLS: options.secure === 'none',
      ...(options.username !== undefined
        ? { auth: { user: options.username, pass: options.password ?? '' } }
        : {}),
      tls: { rejectUnauthorized: options.rejectUnauthorized ?? true },
      connectionTimeout: CHANNEL_TIMEOUT_MS,
      greetingTimeout: CHANNEL_TIMEOUT_MS,
      socketTimeout: CHANNEL_TIMEOUT_MS,
      dnsTimeout: CHANNEL_TIMEOUT_MS,
      logger: false,
      debug: false,
    });
  }

  async send(notice: Notice): Promise<void> {
    const rendered = render(notice);
    const actions = noticeActions(notice);
    let info: { accepted?: unknown[]; rejected?: unknown[]; rejectedErrors?: SmtpError[] };
    try {
      info = (await this.transport.sendMail({
        from: this.options.from,
        to: [...this.options.to],
        subject: oneLine(rendered.title),
        text: emailText(rendered, actions),
        html: emailHtml(rendered, actions),
      })) as typeof info;
    } catch (error) {
      throw this.deliveryError(error);
    }
    const rejected = info.rejectedErrors ?? [];
    if (rejected.length > 0)
      // Some recipients took the message: trying again would send it to them twice.
      throw new DeliveryError(
        `the SMTP server ${this.where()} delivered to ${(info.accepted ?? []).length} recipient(s) but refused ${describeRecipients(rejected)}: check those addresses`,
        true,
      );
  }

  private where(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  private deliveryError(error: unknown): DeliveryError {
    const e = (error ?? {}) as SmtpError;
    const code = e.responseCode;
    const where = this.where();
    // The cause is kept out: nodemailer's errors quote the server, and the server may quote us.
    if (e.code === 'EAUTH' || code === 535 || code === 534 || code === 530)
      return new DeliveryError(
        this.options.username === undefined
          ? `the SMTP server ${where} requires a login: set a username and password`
          : `the SMTP server refused the username or password (${where}): check them`,
        true,
      );
    if (e.code === 'EENVELOPE' && e.command === 'RCPT TO') {
      const refused = e.rejectedErrors ?? [];
      const deferred = refused.some((r) => (r.responseCode ?? 0) < 500);
      return deferred
        ? new DeliveryError(
            `the SMTP server ${where} deferred ${describeRecipients(refused)}: trying again later`,
            false,
          )
        : new DeliveryError(
            `the SMTP server ${where} refused ${describeRecipients(refused)}: check the address`,
            true,
          );
    }
    if (e.code === 'ECONNREFUSED' || e.code === 'ECONNECTION' || e.code === 'ESOCKET') {
      if (isCertificateError(error))
        return new DeliveryError(
          `the TLS certificate of the SMTP server ${where} is not trusted: fix the certificate (or, for a test server only, set rejectUnauthorized to false)`,
          true,
        );
      if (isWrongTlsMode(error))
        return new DeliveryError(
          `the SMTP server ${where} does not speak ${this.options.secure === 'tls' ? 'TLS on connect' : 'plain SMTP'}: check secure ('tls' is usually port 465, 'starttls' 587)`,
          true,
        );
      return new DeliveryError(
        `could not connect to the SMTP server ${where}: trying again later`,
        false,
      );
    }
    if (e.code === 'ETIMEDOUT')
      return new DeliveryError(
        `the SMTP server ${where} did not answer within ${CHANNEL_TIMEOUT_MS / 1000} s: trying again later`,
        false,
      );
    if (e.code === 'EDNS')
      return new DeliveryError(
        `could not resolve the SMTP server's name ${this.options.host}: check host (or the DNS)`,
        false,
      );
    if (e.code === 'ETLS')
      return new DeliveryError(
        `the SMTP server ${where} did not offer STARTTLS, which secure: 'starttls' requires: use a server with TLS, or secure 'tls'`,
        true,
      );
    if (code !== undefined && code >= 400 && code < 500)
      return new DeliveryError(
        `the SMTP server ${where} answered ${code} to ${e.command ?? 'the message'}: trying again later`,
        false,
      );
    if (code !== undefined && code >= 500)
      return new DeliveryError(
        `the SMTP server ${where} refused ${e.command === 'MAIL FROM' ? `the sender ${this.options.from}` : 'the message'} (${code}): check the sender address and the server's rules for it`,
        true,
      );
    return new DeliveryError(
      `sending through the SMTP server ${where} failed (${e.code ?? 'unknown error'}): trying again later`,
      false,
    );
  }
}

function describeRecipients(errors: readonly SmtpError[]): string {
  if (errors.length === 0) return 'the recipients';
  return errors
    .map(
      (r) =>
        `${r.recipient ?? 'a recipient'}${r.responseCode !== undefined ? ` (${r.responseCode})` : ''}`,
    )
    .join(', ');
}

function errorText(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : '';
}

function isCertificateError(error: unknown): boolean {
  const text = errorText(error);
  return /certificate|self[- ]signed|CERT_|unable to verify/i.test(text);
}

function isWrongTlsMode(error: unknown): boolean {
  const text = errorText(error);
  return /wrong version number|packet length too long|unexpected message|Greeting never received/i.test(
    text,
  );
}

/** `details.actions` as links: only well-formed http(s) URLs with a label. */
export function noticeActions(notice: Notice): EmailAction[] {
  const raw = notice.details?.['actions'];
  if (!Array.isArray(raw)) return [];
  const actions: EmailAction[] = [];
  for (const item of raw as unknown[]) {
    const { label, url } = (item ?? {}) as { label?: unknown; url?: unknown };
    if (typeof label !== 'string' || typeof url !== 'string' || label === '') continue;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      continue;
    }
    if (parsed.protocol === 'https:' || parsed.protocol === 'http:')
      actions.push({ label, url: parsed.href });
  }
  return actions;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

export function emailText(rendered: RenderedNotice, actions: readonly EmailAction[]): string {
  const lines = [rendered.text, '', ...rendered.facts.map((f) => `${f.label}: ${f.value}`)];
  if (rendered.lines.length > 0) lines.push('', ...rendered.lines.map((l) => `- ${l}`));
  if (actions.length > 0) lines.push('', ...actions.map((a) => `${a.label}: ${a.url}`));
  return `${lines.join('\n')}\n`;
}

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export function emailHtml(rendered: RenderedNotice, actions: readonly EmailAction[]): string {
  const facts = rendered.facts
    .map(
      (f) =>
        `<tr><th align="left" style="padding:2px 12px 2px 0">${escapeHtml(f.label)}</th><td style="padding:2px 0">${escapeHtml(f.value)}</td></tr>`,
    )
    .join('');
  const links =
    actions.length === 0
      ? ''
      : `<p>${actions.map((a) => `<a href="${escapeHtml(a.url)}">${escapeHtml(a.label)}</a>`).join(' &middot; ')}</p>`;
  return [
    '<!doctype html><html><body style="font-family:sans-serif">',
    `<h2>${escapeHtml(rendered.title)}</h2>`,
    `<p>${escapeHtml(rendered.text)}</p>`,
    `<table>${facts}</table>`,
    rendered.lines.length === 0
      ? ''
      : `<ul>${rendered.lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>`,
    links,
    '</body></html>',
  ].join('');
}
