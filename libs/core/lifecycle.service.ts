import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';

/** Process-wide lifecycle facts: this instance's id and whether shutdown has begun. */
@Injectable()
export class LifecycleService {
  readonly instanceId = randomUUID();
  readonly startedAt = new Date();
  private shuttingDownSince?: Date;

  beginShutdown(): void {
    this.shuttingDownSince ??= new Date();
  }

  get shuttingDown(): boolean {
    return this.shuttingDownSince !== undefined;
  }
}
