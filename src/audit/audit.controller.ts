import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Scopes } from '../../libs/auth/decorators';
import { AuditService } from '../../libs/audit';
import { AuditEventPageDto } from './dto/audit-event.dto';
import { ListAuditEventsQueryDto } from './dto/list-audit-events.query.dto';

/** Read access to the caller's org audit log; requests already run inside its TenantContext. */
@ApiTags('audit')
@Controller('api/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Scopes('audit:read')
  @ApiOperation({ summary: "The caller's org audit events, newest first, filtered and paginated by cursor." })
  @ApiOkResponse({ type: AuditEventPageDto })
  @ApiBadRequestResponse({ description: 'Invalid filter or cursor' })
  list(@Query() query: ListAuditEventsQueryDto): Promise<AuditEventPageDto> {
    return this.audit.list(query);
  }
}
