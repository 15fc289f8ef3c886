import { Injectable } from '@nestjs/common';

/** Operator alert deliveries that failed in this process since the sampler last asked. */
@Injectable()
export class OpsAlertFailures {
  private failed = 0;

  record(): void {
    this.failed++;
  }

  drain(): number {
    const n = this.failed;
    this.failed = 0;
    return n;
  }
}
