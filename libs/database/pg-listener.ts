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

/** Without a channel (and connection string) the loop only polls. */
export interface WakeLoopOptions extends Partial<Omit<PgListenerOptions, 'onWake'>> {
  /** One pass of the work; never two at once. */
  pass: () => Promise<unknown>;
  /** Polling interval: a pass runs at least this often, notifications or not. */
  intervalMs: number;
  onError: (err: Error) => void;
}

/**
 * Work woken by NOTIFY on a channel, with polling as the fallback: at most one pass runs at a
 * time, and a wake during a pass runs one more right after it (so nothing notified is missed).
 */
export class WakeLoop {
  private readonly listener?: PgListener;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(private readonly options: WakeLoopOptions) {
    const { channel, connectionString, applicationName = 'calmops' } = options;
    if (channel && connectionString) {
      this.listener = new PgListener({
        ...options,
        channel,
        connectionString,
        applicationName,
        onWake: () => this.wake(),
      });
    }
  }

  get stopping(): boolean {
    return this.stopped;
  }

  /** Starts polling now and listening once `ready` resolves (polling covers it if it never does). */
  start(ready: Promise<unknown>): void {
    this.timer = setInterval(() => this.wake(), this.options.intervalMs);
    this.timer.unref();
    void ready.then(() => this.listener?.start()).catch(() => undefined);
  }

  /** Runs one pass now, or right after the current one. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.options
      .pass()
      .then(() => undefined)
      .catch((err: Error) => this.options.onError(err))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** No new passes; waits for the current one and closes the listening connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.listener?.stop();
  }
}
