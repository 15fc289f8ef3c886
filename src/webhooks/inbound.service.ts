import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { AppConfig } from '../../libs/config';
import { DatabaseService, TenantContext } from '../../libs/database';
import { ProblemException } from '../../libs/http';
import { ClusterCron, QueueService } from '../../libs/queue';
import { SourcesService } from './sources.service';
import type { VerifiableSource } from './sources.service';
import { StandardWebhookError, verifyStandard } from './standard-webhooks';
import { parseFormBody, verifyTwilioRequest } from './twilio-signature';
import type { TwilioParams } from './twilio-signature';

export const PROCESS_INBOUND_QUEUE = 'webhooks.process-inbound';

export interface ProcessInboundJobData {
  org_id: string;
  /** processed_webhook_events.id */
  id: string;
}

/** What `processed_webhook_events.payload` holds, per provider. */
export type InboundPayload =
  | { provider: 'twilio'; params: TwilioParams }
  | { provider: 'standard'; type: string | null; timestamp: number; body: unknown };

export interface InboundRequest {
  sourceId: string;
  headers: IncomingHttpHeaders;
  /** Exactly the bytes received (NestFactory rawBody: true). */
  rawBody: Buffer | undefined;
  /** The media type, lower case, without parameters. */
  mediaType: string;
  /** `${protocol}://${host}${originalUrl}` as this process saw the request. */
  requestUrl: string;
}

/** A received row waits this long for its job before the redrive re-enqueues it. */
export const REDRIVE_AFTER_SECONDS = 60;
const REDRIVE_BATCH = 500;
/** Longer ids are refused (a btree entry has a size limit; providers' ids are short). */
const MAX_EVENT_ID_LENGTH = 255;

function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  return firstValue(headers[name]);
}

/** Unknown source, deleted source and bad signature answer alike, so none reveals a source exists. */
function unauthorized(): ProblemException {
  return new ProblemException(401, 'The webhook signature is missing or invalid, or the source does not accept it.', {
    slug: 'webhook-signature',
  });
}

/**
 * Inbound provider webhooks: verified on the raw body, recorded exactly once per (source,
 * provider event id), processed by a job after commit.
 */
@Injectable()
export class InboundService {
  private readonly logger = new Logger('WebhooksInbound');

  constructor(
    private readonly sources: SourcesService,
    private readonly tenant: TenantContext,
    private readonly db: DatabaseService,
    private readonly queue: QueueService,
    private readonly config: AppConfig,
  ) {}

  /** Throws a 401 problem before anything is stored; `duplicate` when the event was seen before. */
  async receive(req: InboundRequest): Promise<{ duplicate: boolean }> {
    const source = await this.sources.findForVerification(req.sourceId);
    if (!source) throw unauthorized();
    const raw = req.rawBody?.toString('utf8') ?? '';
    const { eventId, payload } =
      source.provider === 'twilio' ? this.verifyTwilio(source, req, raw) : this.verifyStandard(source, req, raw);
    if (eventId.length > MAX_EVENT_ID_LENGTH) {
      throw new ProblemException(400, `The event id is longer than ${MAX_EVENT_ID_LENGTH} characters.`);
    }
    const id = await this.tenant.run(source.orgId, async () => {
      const rows = (await this.tenant.manager.query(
        `INSERT INTO processed_webhook_events (org_id, source_id, event_id, payload)
         VALUES ($1, $2, $3, $4::jsonb)
         ON CONFLICT (source_id, event_id) DO NOTHING RETURNING id`,
        [source.orgId, source.id, eventId, JSON.stringify(payload)],
      )) as { id: string }[];
      return rows[0]?.id;
    });
    if (!id) return { duplicate: true };
    // After commit; should this send fail, the row stays 'received' and the redrive sends it.
    await this.enqueue(source.orgId, id).catch((err: Error) =>
      this.logger.warn({ org_id: source.orgId, id }, `inbound job not sent, redrive will: ${err.message}`),
    );
    return { duplicate: false };
  }

  private verifyTwilio(
    source: VerifiableSource,
    req: InboundRequest,
    raw: string,
  ): { eventId: string; payload: InboundPayload } {
    const json = req.mediaType === 'application/json';
    const ok = verifyTwilioRequest({
      authToken: source.secret,
      url: twilioSignedUrl(source.publicUrl, req.requestUrl),
      signature: header(req.headers, 'x-twilio-signature'),
      contentType: json ? 'json' : 'form',
      rawBody: raw,
    });
    if (!ok) throw unauthorized();
    const params = json ? jsonParams(raw) : parseFormBody(raw);
    const callSid = firstValue(params.CallSid);
    const status = firstValue(params.CallStatus);
    const sequence = firstValue(params.SequenceNumber);
    let eventId: string;
    if (callSid && status) eventId = [callSid, status, ...(sequence ? [sequence] : [])].join(':');
    else {
      // Not a call status callback: Twilio's retry token, else the body itself identifies it.
      const token = header(req.headers, 'i-twilio-idempotency-token');
      eventId = token ? `token:${token}` : `sha256:${createHash('sha256').update(raw).digest('hex')}`;
    }
    return { eventId, payload: { provider: 'twilio', params } };
  }

  private verifyStandard(
    source: VerifiableSource,
    req: InboundRequest,
    raw: string,
  ): { eventId: string; payload: InboundPayload } {
    let verified: { id: string; timestamp: number };
    try {
      verified = verifyStandard(
        req.headers,
        req.rawBody ?? Buffer.alloc(0),
        source.secret,
        this.config.get('WEBHOOK_INBOUND_TOLERANCE_SECONDS'),
        Date.now(),
      );
    } catch (err) {
      if (err instanceof StandardWebhookError) throw unauthorized();
      throw err;
    }
    let body: unknown = raw;
    if (req.mediaType === 'application/json') {
      try {
        body = JSON.parse(raw) as unknown;
      } catch {
        body = raw;
      }
    }
    const type =
      body && typeof body === 'object' && typeof (body as { type?: unknown }).type === 'string'
        ? (body as { type: string }).type
        : null;
    return {
      eventId: verified.id,
      payload: { provider: 'standard', type, timestamp: verified.timestamp, body },
    };
  }

  /**
   * Rows whose job never came (the send after commit failed, or the process died in between)
   * are sent again. The job is idempotent, and a throttle key per row keeps a backlog from
   * piling up copies while workers catch up.
   */
  @ClusterCron('webhooks.inbound-redrive', { everyMs: 30_000 })
  async redrive(): Promise<{ requeued: number }> {
    await this.db.whenConnected();
    // Cross-tenant on purpose: one sweep over every org's stuck rows.
    const rows = (await this.db.system.query(
      `SELECT org_id, id FROM processed_webhook_events
       WHERE status = 'received' AND received_at < now() - make_interval(secs => $1)
       ORDER BY received_at LIMIT $2`,
      [REDRIVE_AFTER_SECONDS, REDRIVE_BATCH],
    )) as { org_id: string; id: string }[];
    for (const row of rows) {
      await this.queue.send(PROCESS_INBOUND_QUEUE, { org_id: row.org_id, id: row.id } satisfies ProcessInboundJobData, {
        singletonKey: row.id,
        singletonSeconds: REDRIVE_AFTER_SECONDS,
      });
    }
    if (rows.length) this.logger.warn({ count: rows.length }, 're-enqueued inbound webhook events stuck in received');
    return { requeued: rows.length };
  }

  private async enqueue(orgId: string, id: string): Promise<void> {
    await this.queue.send(PROCESS_INBOUND_QUEUE, { org_id: orgId, id } satisfies ProcessInboundJobData);
  }
}

/**
 * Twilio signs the URL it called. With `public_url` set (a proxy in between), that is the
 * configured URL; the request's query string (e.g. `bodySHA256` on JSON bodies) is carried over
 * when the configured URL has none of its own.
 */
export function twilioSignedUrl(publicUrl: string | null, requestUrl: string): string {
  if (!publicUrl) return requestUrl;
  const q = requestUrl.indexOf('?');
  return publicUrl.includes('?') || q < 0 ? publicUrl : publicUrl + requestUrl.slice(q);
}

function jsonParams(raw: string): TwilioParams {
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    const params: TwilioParams = {};
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof v === 'string') params[k] = v;
      else if (typeof v === 'number' || typeof v === 'boolean') params[k] = String(v);
    }
    return params;
  } catch {
    return {};
  }
}
