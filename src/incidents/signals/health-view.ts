import { Injectable } from '@nestjs/common';
import { SIGNAL_NAMES, SIGNALS } from './catalog';
import type { Reading } from './catalog';
import { IncidentRules } from './incident-rules';
import { levelOf } from './rules';
import { SignalReadings } from './signal-readings';

export interface SignalView {
  signal: string;
  scope: string;
  /** The process id, host, org id or queue it belongs to ('' for the cluster). */
  resource: string;
  value: number | null;
  unit: string;
  warning: number | null;
  critical: number | null;
  state: 'ok' | 'warning' | 'critical' | 'unknown';
  unknown_reason: string | null;
  measured_at: string | null;
}

/** GET /api/ops/health: every signal now, with its thresholds and state. */
@Injectable()
export class HealthView {
  constructor(
    private readonly readings: SignalReadings,
    private readonly rules: IncidentRules,
  ) {}

  async signals(): Promise<SignalView[]> {
    const readings = await this.readings.current();
    const out = readings.map((r) => this.view(r));
    // A signal with no reading at all is listed too: unknown, and why.
    for (const signal of SIGNAL_NAMES) {
      if (readings.some((r) => r.signal === signal)) continue;
      const spec = SIGNALS[signal];
      const rule = this.rules.of(signal);
      out.push({
        signal,
        scope: spec.scope,
        resource: '',
        value: null,
        unit: spec.unit,
        warning: rule.warning,
        critical: rule.critical,
        state: spec.scope === 'org' ? 'ok' : 'unknown',
        unknown_reason: spec.scope === 'org' ? null : 'no process has reported it in the last three sample intervals',
        measured_at: null,
      });
    }
    return out.sort((a, b) => a.signal.localeCompare(b.signal) || a.resource.localeCompare(b.resource));
  }

  private view(r: Reading): SignalView {
    const rule = this.rules.of(r.signal);
    return {
      signal: r.signal,
      scope: r.scope,
      resource: r.resource,
      value: r.value,
      unit: SIGNALS[r.signal].unit,
      warning: rule.warning,
      critical: rule.critical,
      state: r.value === null ? 'unknown' : levelOf(rule, r.value),
      unknown_reason: r.value === null ? (r.unknownReason ?? 'not measured') : null,
      measured_at: r.measuredAt.toISOString(),
    };
  }
}
