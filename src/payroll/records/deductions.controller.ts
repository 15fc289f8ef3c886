import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Scopes } from '../../../libs/auth';
import type { Principal } from '../../../libs/auth';
import { RequestId } from '../../../libs/http';
import { DeductionsService } from './deductions.service';
import { CreateDeductionDto, DeductionDto, DeductionListQueryDto, DeductionPageDto } from './dto/deduction.dto';

@ApiTags('payroll')
@Controller('api/payroll/deductions')
export class DeductionsController {
  constructor(private readonly deductions: DeductionsService) {}

  @Post()
  @Scopes('payroll:write')
  @ApiOperation({
    summary: 'Add a recurring deduction for a driver.',
    description: 'kind fixed takes amount_cents (and no percent); kind percent takes percent (and no amount_cents).',
  })
  @ApiCreatedResponse({ type: DeductionDto })
  create(
    @Body() body: CreateDeductionDto,
    @CurrentPrincipal() principal: Principal,
    @RequestId() requestId?: string,
  ): Promise<DeductionDto> {
    return this.deductions.create(principal, body, requestId);
  }

  @Get()
  @Scopes('payroll:read')
  @ApiOperation({ summary: "List the org's deductions, newest first." })
  @ApiOkResponse({ type: DeductionPageDto })
  list(@Query() query: DeductionListQueryDto): Promise<DeductionPageDto> {
    return this.deductions.list(query);
  }
}
