import { Injectable } from '@nestjs/common';
import { TenantContext } from '../../libs/database';
import type { CustomerIncidentDto } from './dto/incident.dto';
import { IncidentImpact } from './entities/incident-impact.entity';
import { toCustomerDto } from './incident-views';

/**
 * The incidents that affect the current org, in customer terms (tenant transaction, RLS on
 * incident_impacts): what other features (the assistant agents) may read of incidents.
 */
@Injectable()
export class OrgIncidents {
  constructor(private readonly tenant: TenantContext) {}

  /** Open ones first, then the most recent, at most `limit`. */
  async recent(limit = 20): Promise<CustomerIncidentDto[]> {
    const rows = await this.tenant
      .repo(IncidentImpact)
      .createQueryBuilder('p')
      .where('p.org_id = :org', { org: this.tenant.orgId })
      .orderBy('p.resolved_at IS NULL', 'DESC')
      .addOrderBy('p.started_at', 'DESC')
      .addOrderBy('p.id', 'DESC')
      .limit(limit)
      .getMany();
    return rows.map(toCustomerDto);
  }

  async get(incidentId: string): Promise<CustomerIncidentDto | null> {
    const row = await this.tenant.repo(IncidentImpact).findOneBy({ incidentId, orgId: this.tenant.orgId });
    return row ? toCustomerDto(row) : null;
  }
}
