import { Controller, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Scopes } from '../../libs/auth';
import { TenantContext } from '../../libs/database';
import { newestFirstPage, PageQueryDto, ProblemException } from '../../libs/http';
import { CustomerIncidentDto, CustomerIncidentPageDto } from './dto/incident.dto';
import { IncidentImpact } from './entities/incident-impact.entity';
import { toCustomerDto } from './incident-views';

/** Tenants see the incidents that affect their own org, in customer terms (RLS on incident_impacts). */
@ApiTags('incidents')
@Controller('api/incidents')
@Scopes('incidents:read')
export class IncidentsController {
  constructor(private readonly tenant: TenantContext) {}

  @Get()
  @ApiOperation({ summary: 'Incidents affecting your org, newest first: title, severity, status, features, updates.' })
  @ApiOkResponse({ type: CustomerIncidentPageDto })
  async list(@Query() query: PageQueryDto): Promise<CustomerIncidentPageDto> {
    const qb = this.tenant
      .repo(IncidentImpact)
      .createQueryBuilder('p')
      .where('p.org_id = :org', { org: this.tenant.orgId });
    const { rows, next_cursor } = await newestFirstPage(qb, { limit: query.limit ?? 50, cursor: query.cursor });
    return { items: rows.map(toCustomerDto), next_cursor };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One incident affecting your org (404 for any other).' })
  @ApiOkResponse({ type: CustomerIncidentDto })
  @ApiNotFoundResponse({ description: 'No such incident affects your org' })
  async get(@Param('id', ParseUUIDPipe) id: string): Promise<CustomerIncidentDto> {
    const row = await this.tenant.repo(IncidentImpact).findOneBy({ incidentId: id, orgId: this.tenant.orgId });
    if (!row) throw new ProblemException(404, 'No such incident affects your org.');
    return toCustomerDto(row);
  }
}
