import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Scopes } from '../../libs/auth';
import { HealthDto, RulesDto } from './dto/incident.dto';
import type { RuleDto } from './dto/incident.dto';
import { RuleStatsService } from './rule-stats';
import { HealthView } from './signals/health-view';

const RANK = { ok: 0, unknown: 1, warning: 2, critical: 3 } as const;

/** Every health signal now, and the rules that turn them into incidents (platform:admin). */
@ApiTags('ops')
@Controller('api/ops')
@Scopes('platform:admin')
export class OpsHealthController {
  constructor(
    private readonly health: HealthView,
    private readonly rules: RuleStatsService,
  ) {}

  @Get('health')
  @ApiOperation({
    summary:
      'Every signal of every process, host, org and queue: value, unit, thresholds, state (ok|warning|critical|unknown, with the reason), measured_at.',
  })
  @ApiOkResponse({ type: HealthDto })
  async signals(): Promise<HealthDto> {
    const signals = await this.health.signals();
    const state = signals.reduce<keyof typeof RANK>((w, s) => (RANK[s.state] > RANK[w] ? s.state : w), 'ok');
    return { state, signals };
  }

  @Get('rules')
  @ApiOperation({
    summary:
      'The rules in force (defaults with INCIDENT_THRESHOLDS applied), with statistics and tuning suggestions per rule.',
  })
  @ApiOkResponse({ type: RulesDto })
  async list(): Promise<RulesDto> {
    return { items: (await this.rules.list()) as unknown as RuleDto[] };
  }
}
