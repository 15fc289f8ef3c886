import { Injectable } from '@nestjs/common';
import { AuditService } from '../../../libs/audit';
import { auditActor, Principal } from '../../../libs/auth';
import { TenantContext } from '../../../libs/database';
import { newestFirstPage, FieldError, ProblemException } from '../../../libs/http';
import { parseDecimalField, PERCENT_SPEC } from './decimal-fields';
import { CreateDeductionDto, DeductionDto, DeductionListQueryDto, DeductionPageDto } from './dto/deduction.dto';
import { Deduction } from './entities/deduction.entity';
import { Driver } from './entities/driver.entity';

const cents = (value: string | null): number | null => (value === null ? null : Number(value));

export function toDeductionDto(d: Deduction): DeductionDto {
  return {
    id: d.id,
    driver_id: d.driverId,
    name: d.name,
    kind: d.kind,
    amount_cents: cents(d.amountCents),
    percent: d.percent,
    priority: d.priority,
    max_total_cents: cents(d.maxTotalCents),
    active: d.active,
    created_at: d.createdAt.toISOString(),
  };
}

/** The rules between fields that class-validator cannot express per field; mirrors the table's CHECK. */
function kindErrors(dto: CreateDeductionDto): FieldError[] {
  const errors: FieldError[] = [];
  if (dto.kind === 'fixed') {
    if (dto.amount_cents === undefined)
      errors.push({ field: 'amount_cents', message: 'is required when kind is fixed' });
    if (dto.percent !== undefined) errors.push({ field: 'percent', message: 'must be absent when kind is fixed' });
  } else {
    if (dto.percent === undefined) errors.push({ field: 'percent', message: 'is required when kind is percent' });
    if (dto.amount_cents !== undefined) {
      errors.push({ field: 'amount_cents', message: 'must be absent when kind is percent' });
    }
  }
  return errors;
}

/** The validated DTO value as decimal text for the numeric column (never a float). */
function percentText(percent: string | number): string {
  const parsed = parseDecimalField(percent, PERCENT_SPEC);
  if (!parsed.ok) {
    throw new ProblemException(400, `percent ${parsed.message}.`, {
      errors: [{ field: 'percent', message: parsed.message }],
    });
  }
  return parsed.value;
}

/** Same keyset rule as drivers: milliseconds, because the cursor carries a JS Date. */

@Injectable()
export class DeductionsService {
  constructor(
    private readonly tenant: TenantContext,
    private readonly audit: AuditService,
  ) {}

  async create(principal: Principal, dto: CreateDeductionDto, requestId?: string): Promise<DeductionDto> {
    const errors = kindErrors(dto);
    if (errors.length) {
      throw new ProblemException(400, `The request is invalid: ${errors.map((e) => e.field).join(', ')}.`, { errors });
    }
    // A body field naming a missing driver is bad input (400), and another org's driver looks missing.
    const driver = await this.tenant.repo(Driver).findOneBy({ id: dto.driver_id });
    if (!driver) {
      throw new ProblemException(400, 'driver_id is not a driver of this org.', {
        errors: [{ field: 'driver_id', message: 'is not a driver of this org' }],
      });
    }
    const repo = this.tenant.repo(Deduction);
    const { identifiers } = await repo.insert({
      orgId: this.tenant.orgId,
      driverId: dto.driver_id,
      name: dto.name,
      kind: dto.kind,
      amountCents: dto.amount_cents === undefined ? null : String(dto.amount_cents),
      percent: dto.percent === undefined ? null : percentText(dto.percent),
      priority: dto.priority ?? 100,
      maxTotalCents: dto.max_total_cents === undefined ? null : String(dto.max_total_cents),
    });
    const saved = toDeductionDto(await repo.findOneByOrFail({ id: (identifiers[0] as { id: string }).id }));
    await this.audit.record({
      action: 'payroll.deduction.created',
      ...auditActor(principal),
      targetType: 'payroll_deduction',
      targetId: saved.id,
      data: {
        driver_id: saved.driver_id,
        name: saved.name,
        kind: saved.kind,
        amount_cents: saved.amount_cents,
        percent: saved.percent,
        priority: saved.priority,
        max_total_cents: saved.max_total_cents,
      },
      requestId,
    });
    return saved;
  }

  async list(query: DeductionListQueryDto): Promise<DeductionPageDto> {
    const limit = query.limit ?? 50;
    const qb = this.tenant.repo(Deduction).createQueryBuilder('x').where('x.org_id = :org', { org: this.tenant.orgId });
    if (query.driver_id) qb.andWhere('x.driver_id = :driverId', { driverId: query.driver_id });
    const { rows: page, next_cursor } = await newestFirstPage(qb, { limit, cursor: query.cursor });
    return {
      items: page.map(toDeductionDto),
      next_cursor,
    };
  }
}
