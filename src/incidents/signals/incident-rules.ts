import { Injectable } from '@nestjs/common';
import { AppConfig, ConfigValidationError } from '../../../libs/config';
import type { SignalName } from './catalog';
import { effectiveRules, parseRuleOverrides } from './rules';
import type { Rule } from './rules';

/** The rules in force: the defaults in code with INCIDENT_THRESHOLDS applied (checked at boot). */
@Injectable()
export class IncidentRules {
  private readonly rules: Rule[];

  constructor(config: AppConfig) {
    try {
      this.rules = effectiveRules(parseRuleOverrides(config.get('INCIDENT_THRESHOLDS')));
    } catch (err) {
      throw new ConfigValidationError([`INCIDENT_THRESHOLDS: ${(err as Error).message}`]);
    }
  }

  all(): Rule[] {
    return this.rules;
  }

  of(signal: SignalName): Rule {
    return this.rules.find((r) => r.signal === signal)!;
  }
}
