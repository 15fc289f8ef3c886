import { Body, Controller, Get, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { auditActor, CurrentPrincipal, Scopes } from '../../libs/auth';
import type { Principal } from '../../libs/auth';
import { RequestId } from '../../libs/http';
import { CreateOrgDto, OrgDto } from './dto/org.dto';
import { OrgsService, toOrgDto } from './orgs.service';

@ApiTags('orgs')
@Controller('api/orgs')
export class OrgsController {
  constructor(private readonly orgs: OrgsService) {}

  @Post()
  @Scopes('platform:admin')
  @ApiOperation({ summary: 'Create an organization (platform admins only).' })
  @ApiCreatedResponse({ type: OrgDto })
  async create(
    @Body() body: CreateOrgDto,
    @CurrentPrincipal() principal: Principal,
    @RequestId() requestId?: string,
  ): Promise<OrgDto> {
    const { org } = await this.orgs.create(body.name, body.plan ?? 'free', auditActor(principal), { requestId });
    return toOrgDto(org);
  }

  @Get('me')
  @Scopes('orgs:read')
  @ApiOperation({ summary: "The caller's organization." })
  @ApiOkResponse({ type: OrgDto })
  me(): Promise<OrgDto> {
    return this.orgs.me();
  }
}
