import { Injectable, Logger, OnApplicationShutdown, OnModuleInit, ServiceUnavailableException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config';
import { retryWithBackoff, RetryAbortedError, withTimeout } from '../resilience';
import { buildDataSourceOptions } from './data-source-options';

/**
 * Owns the two connection pools of a process:
 * - `app`: the runtime role, subject to row-level security; tenant requests use it only
 *   through TenantContext (a transaction with `app.current_org` set).
 * - `system`: the system role (BYPASSRLS) for work that crosses tenants on purpose
 *   (queue, outbox relay, dispatchers, sweepers). Every use of it is a visible, named choice.
 *
 * Connecting happens in the background with backoff so that a database that is down at boot
 * leaves the process alive (liveness 200, readiness 503) instead of crash-looping.
 */
@Injectable()
export class DatabaseService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private appDs?: DataSource;
  private systemDs?: DataSource;
  private connection?: Promise<void>;
  private readonly abort = new AbortController();

  constructor(private readonly config: AppConfig) {}

  onModuleInit(): void {
    this.connection = this.connectWithRetry();
    this.connection.catch(() => undefined);
  }

  get connected(): boolean {
    return !!this.appDs?.isInitialized && !!this.systemDs?.isInitialized;
  }

  /** Resolves once both pools are connected (rejects if the process shuts down first). */
  async whenConnected(): Promise<void> {
    if (!this.connection) this.onModuleInit();
    await this.connection;
  }

  get app(): DataSource {
    if (!this.appDs?.isInitialized) throw new ServiceUnavailableException('The database is not reachable yet.');
    return this.appDs;
  }

  /** Cross-tenant connection (BYPASSRLS). Use only for deliberate system work. */
  get system(): DataSource {
    if (!this.systemDs?.isInitialized) throw new ServiceUnavailableException('The database is not reachable yet.');
    return this.systemDs;
  }

  private async connectWithRetry(): Promise<void> {
    const runtimeUrl = this.config.get('DATABASE_URL');
    const systemUrl = this.config.get('DATABASE_SYSTEM_URL') ?? runtimeUrl;
    if (!runtimeUrl || !systemUrl) throw new Error('DATABASE_URL is not set');
    await retryWithBackoff(
      async () => {
        this.appDs ??= await this.open(runtimeUrl, 'calmops:app');
        this.systemDs ??= await this.open(systemUrl, 'calmops:system');
      },
      {
        attempts: Infinity,
        baseMs: 250,
        capMs: 10_000,
        jitter: 0.2,
        signal: this.abort.signal,
        onRetry: (err, attempt, delay) =>
          this.logger.warn(
            `database not reachable (attempt ${attempt}): ${(err as Error).message}; retry in ${delay} ms`,
          ),
      },
    ).catch((err) => {
      if (!(err instanceof RetryAbortedError)) this.logger.error(`giving up connecting: ${(err as Error).message}`);
      throw err;
    });
  }

  private async open(url: string, applicationName: string): Promise<DataSource> {
    const ds = new DataSource(
      buildDataSourceOptions({
        url,
        applicationName,
        poolSize: this.config.get('DATABASE_POOL_SIZE'),
        connectTimeoutMs: this.config.get('DATABASE_CONNECT_TIMEOUT_MS'),
      }),
    );
    try {
      await ds.initialize();
    } catch (err) {
      if (ds.isInitialized) await ds.destroy().catch(() => undefined);
      throw err;
    }
    // Shutdown began while it was connecting: nobody will close this pool later.
    if (this.abort.signal.aborted) {
      await ds.destroy().catch(() => undefined);
      throw new RetryAbortedError('connected after shutdown began');
    }
    return ds;
  }

  async onApplicationShutdown(): Promise<void> {
    this.abort.abort();
    // A connect in flight settles first (and closes what it opened).
    if (!this.connected && this.connection) {
      await withTimeout(this.connection, this.config.get('SHUTDOWN_TIMEOUT_MS'), 'the database connect').catch(
        () => undefined,
      );
    }
    await Promise.all([this.appDs, this.systemDs].map((ds) => (ds?.isInitialized ? ds.destroy() : undefined)));
  }
}
