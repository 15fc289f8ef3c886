import { Client } from 'pg';

export interface PgListenerOptions {
  connectionString: string;
  channel: string;
  applicationName: string;
  /** Called for every notification, and once each time listening (re)starts (one may have been missed). */
  onWake: () => void;
  /** Delay before reconnecting after a failure (default 5 s); polling covers the gap. */
  retryMs?: number;
}

/**
 * A dedicated connection that LISTENs on one channel and keeps doing so: a failed connect or
 * a dropped connection is retried after `retryMs` until stop(). Callers poll as well, so a
 * notification lost while reconnecting only delays work.
 */
export class PgListener {
  private client?: Client;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly options: PgListenerOptions) {}

  get listening(): boolean {
    return this.client !== undefined;
  }

  /** Starts listening after `delayMs` (returns at once; failures are retried). */
  start(delayMs = 0): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connect().catch(() => this.start(this.options.retryMs ?? 5000));
    }, delayMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({
      connectionString: this.options.connectionString,
      application_name: this.options.applicationName,
    });
    client.on('notification', () => this.options.onWake());
    client.on('error', () => {
      if (this.client === client) this.client = undefined;
      void client.end().catch(() => undefined);
      this.start(this.options.retryMs ?? 5000);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(this.options.channel)}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.options.onWake();
  }
}
