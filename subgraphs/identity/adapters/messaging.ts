import nodemailer, { type Transporter } from 'nodemailer';
import twilio from 'twilio';
import type { MessagingSettings } from '../../kit/config.js';

/**
 * Where patients' messages go out: SMS and WhatsApp through Twilio Messaging (the `twilio`
 * SDK, a status callback on each message), email over SMTP (`nodemailer`). Each send answers
 * the provider's id, which its status callbacks name.
 */
export type Channel = 'SMS' | 'WHATSAPP' | 'EMAIL';

export interface OutgoingMessage {
  channel: Channel;
  /** E.164 phone number, or an email address. */
  to: string;
  subject: string | null;
  body: string;
  /** Where Twilio reports the message's status. */
  statusCallback: string;
}

/** A send the provider refused or could not take: `permanent` when retrying cannot help (a bad number). */
export class SendFailed extends Error {
  constructor(message: string, readonly permanent: boolean) {
    super(message);
  }
}

export interface MessageSender {
  send(message: OutgoingMessage): Promise<{ providerId: string; status: 'QUEUED' | 'SENT' }>;
  channels(): Channel[];
  /** Whether a callback (form POST to `url`) carries Twilio's signature. */
  verifyTwilio(input: { signature: string | undefined; url: string; params: Record<string, string> }): boolean;
}

/** Twilio's errors that no retry fixes: an invalid or unreachable number, an opted-out recipient. */
const PERMANENT_TWILIO_CODES = new Set([21211, 21214, 21408, 21610, 21612, 21614, 63003]);

export class VendorMessageSender implements MessageSender {
  private readonly twilioClient: twilio.Twilio | null;
  private readonly mail: Transporter | null;

  constructor(private readonly settings: MessagingSettings) {
    const t = settings.twilio;
    this.twilioClient = t ? twilio(t.apiKeySid, t.apiKeySecret, { accountSid: t.accountSid, autoRetry: false }) : null;
    if (this.twilioClient && t?.apiBaseUrl) this.twilioClient.api.baseUrl = t.apiBaseUrl;
    this.mail = settings.smtp ? nodemailer.createTransport(settings.smtp.url) : null;
  }

  channels(): Channel[] {
    const t = this.settings.twilio;
    return [...(t?.smsFrom ? (['SMS'] as const) : []), ...(t?.whatsappFrom ? (['WHATSAPP'] as const) : []), ...(this.mail ? (['EMAIL'] as const) : [])];
  }

  async send(message: OutgoingMessage): Promise<{ providerId: string; status: 'QUEUED' | 'SENT' }> {
    if (message.channel === 'EMAIL') {
      if (!this.mail || !this.settings.smtp) throw new SendFailed('email is not configured', true);
      try {
        const info = await this.mail.sendMail({ from: this.settings.smtp.from, to: message.to, subject: message.subject ?? '', text: message.body });
        return { providerId: info.messageId, status: 'SENT' };
      } catch (error) {
        const code = (error as { responseCode?: number }).responseCode ?? 0;
        // 5xx from the mail server: the address is refused for good.
        throw new SendFailed(`the mail server refused the message (${code || 'unreachable'})`, code >= 500 && code < 600);
      }
    }
    const t = this.settings.twilio;
    const from = message.channel === 'WHATSAPP' ? t?.whatsappFrom : t?.smsFrom;
    if (!this.twilioClient || !from) throw new SendFailed(`${message.channel} is not configured`, true);
    const prefix = message.channel === 'WHATSAPP' ? 'whatsapp:' : '';
    try {
      const sent = await this.twilioClient.messages.create({ to: `${prefix}${message.to}`, from: `${prefix}${from}`, body: message.body, statusCallback: message.statusCallback });
      return { providerId: sent.sid, status: sent.status === 'sent' ? 'SENT' : 'QUEUED' };
    } catch (error) {
      const code = (error as { code?: number }).code ?? 0;
      throw new SendFailed(`Twilio refused the message (${code || (error as { status?: number }).status || 'unreachable'})`, PERMANENT_TWILIO_CODES.has(code));
    }
  }

  verifyTwilio(input: { signature: string | undefined; url: string; params: Record<string, string> }): boolean {
    const t = this.settings.twilio;
    if (!t || !input.signature) return false;
    return twilio.validateRequest(t.authToken, input.signature, input.url, input.params);
  }
}
