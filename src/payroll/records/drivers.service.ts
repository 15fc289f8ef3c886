import { Injectable, NotFoundException } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { AuditService } from '../../../libs/audit';
import { auditActor, Principal } from '../../../libs/auth';
import { TenantContext } from '../../../libs/database';
import { newestFirstPage, ProblemException } from '../../../libs/http';
import { parseDecimalField, RATE_SPEC } from './decimal-fields';
import { CreateDriverDto, DriverDto, DriverListQueryDto, DriverPageDto, UpdateDriverDto } from './dto/driver.dto';
import { Driver } from './entities/driver.entity';

export function toDriverDto(d: Driver): DriverDto {
  return {
    id: d.id,
    name: d.name,
    external_ref: d.externalRef,
    pay_type: d.payType,
    rate: d.rate,
    overtime_exempt: d.overtimeExempt,
    active: d.active,
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
  };
}

/** The validated DTO value as decimal text for the numeric column (never a float). */
function rateText(rate: string | number): string {
  const parsed = parseDecimalField(rate, RATE_SPEC);
  if (!parsed.ok) {
    throw new ProblemException(400, `rate ${parsed.message}.`, {
      errors: [{ field: 'rate', message: parsed.message }],
    });
  }
  return parsed.value;
}

/** A second driver with the same external_ref in one org hits the partial unique index: a 409, not a 500. */
async function unlessDuplicateRef<T>(externalRef: string | null | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const cause = err instanceof QueryFailedError ? (err.driverError as { code?: string; constraint?: string }) : {};
    if (cause.code === '23505' && cause.constraint === 'payroll_drivers_org_external_ref') {
      throw new ProblemException(409, `Another driver already has external_ref "${externalRef}".`, {
        errors: [{ field: 'external_ref', message: 'is already used by another driver of this org' }],
      });
    }
    throw err;
  }
}

/**
 * created_at is truncated to milliseconds for ordering and cursors: a cursor carries a JS Date
 * (ms) while timestamptz holds microseconds, and comparing the two directly would skip rows.
 */

@Injectable()
export class DriversService {
  constructor(
    private readonly tenant: TenantContext,
    private readonly audit: AuditService,
  ) {}

  async create(principal: Principal, dto: CreateDriverDto, requestId?: string): Promise<DriverDto> {
    const repo = this.tenant.repo(Driver);
    const values = {
      orgId: this.tenant.orgId,
      name: dto.name,
      externalRef: dto.external_ref ?? null,
      payType: dto.pay_type,
      rate: rateText(dto.rate),
      overtimeExempt: dto.overtime_exempt ?? false,
      active: dto.active ?? true,
    };
    const { identifiers } = await unlessDuplicateRef(values.externalRef, () => repo.insert(values));
    // Read back so rate comes out as stored (numeric(14,4)) and timestamps are the database's.
    const driver = await repo.findOneByOrFail({ id: (identifiers[0] as { id: string }).id });
    await this.audit.record({
      action: 'payroll.driver.created',
      ...auditActor(principal),
      targetType: 'payroll_driver',
      targetId: driver.id,
      data: {
        name: driver.name,
        external_ref: driver.externalRef,
        pay_type: driver.payType,
        rate: driver.rate,
        overtime_exempt: driver.overtimeExempt,
        active: driver.active,
      },
      requestId,
    });
    return toDriverDto(driver);
  }

  async get(id: string): Promise<DriverDto> {
    return toDriverDto(await this.find(id));
  }

  async update(principal: Principal, id: string, dto: UpdateDriverDto, requestId?: string): Promise<DriverDto> {
    const repo = this.tenant.repo(Driver);
    const before = await this.find(id, true);
    const next: Partial<Driver> = {};
    if (dto.name !== undefined) next.name = dto.name;
    if (dto.external_ref !== undefined) next.externalRef = dto.external_ref;
    if (dto.pay_type !== undefined) next.payType = dto.pay_type;
    if (dto.rate !== undefined) next.rate = rateText(dto.rate);
    if (dto.overtime_exempt !== undefined) next.overtimeExempt = dto.overtime_exempt;
    if (dto.active !== undefined) next.active = dto.active;
    // An empty PATCH is a no-op: nothing written, nothing audited.
    if (!Object.keys(next).length) return toDriverDto(before);

    await unlessDuplicateRef(next.externalRef, () => repo.update({ id }, next));
    const after = await repo.findOneByOrFail({ id });
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    const shown = toDriverDto(after);
    const old = toDriverDto(before);
    for (const field of ['name', 'external_ref', 'pay_type', 'rate', 'overtime_exempt', 'active'] as const) {
      if (old[field] !== shown[field]) changes[field] = { from: old[field], to: shown[field] };
    }
    await this.audit.record({
      action: 'payroll.driver.updated',
      ...auditActor(principal),
      targetType: 'payroll_driver',
      targetId: id,
      data: { changes },
      requestId,
    });
    return shown;
  }

  async list(query: DriverListQueryDto): Promise<DriverPageDto> {
    const limit = query.limit ?? 50;
    const qb = this.tenant.repo(Driver).createQueryBuilder('d').where('d.org_id = :org', { org: this.tenant.orgId });
    if (query.active !== undefined) qb.andWhere('d.active = :active', { active: query.active === 'true' });
    const { rows: page, next_cursor } = await newestFirstPage(qb, { limit, cursor: query.cursor });
    return {
      items: page.map(toDriverDto),
      next_cursor,
    };
  }

  /** Unknown ids and other orgs' drivers (hidden by row-level security) are the same 404. */
  private async find(id: string, forUpdate = false): Promise<Driver> {
    const driver = await this.tenant
      .repo(Driver)
      .findOne({ where: { id }, ...(forUpdate ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    if (!driver) throw new NotFoundException('No such driver.');
    return driver;
  }
}
