import { Injectable } from '@nestjs/common';

export interface UploadTally {
  accepted: number;
  rejected: number;
}

/**
 * Ticket uploads accepted and rejected by this process, per org, since it was last asked: the
 * health sampler writes them as samples every interval, so the failure ratio of an org is
 * summed over every api process.
 */
@Injectable()
export class UploadOutcomes {
  private tally = new Map<string, UploadTally>();

  record(orgId: string, result: 'accepted' | 'rejected'): void {
    const t = this.tally.get(orgId) ?? { accepted: 0, rejected: 0 };
    t[result]++;
    this.tally.set(orgId, t);
  }

  /** What was recorded since the last call, and a fresh start. */
  drain(): Map<string, UploadTally> {
    const out = this.tally;
    this.tally = new Map();
    return out;
  }
}
