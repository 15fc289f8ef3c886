import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AnyOfScopes, CurrentPrincipal } from '../../../libs/auth';
import type { Principal } from '../../../libs/auth';
import { RequestId } from '../../../libs/http';
import { ControlDto } from './dto/run.dto';
import { PayrollControlService } from './payroll-control.service';
import type { ControlResult } from './payroll-control.service';

@ApiTags('payroll admin')
@Controller('api/admin/payroll')
export class PayrollAdminController {
  constructor(private readonly control: PayrollControlService) {}

  @Post('control')
  @HttpCode(200)
  @AnyOfScopes('payroll:admin', 'platform:admin')
  @ApiOperation({
    summary:
      'pause / resume / cancel / retry one run of your org (payroll:admin); pause_all / resume_all the whole queue (platform:admin).',
  })
  @ApiOkResponse({ description: 'What was done.' })
  apply(
    @Body() body: ControlDto,
    @CurrentPrincipal() principal: Principal,
    @RequestId() requestId?: string,
  ): Promise<ControlResult> {
    return this.control.apply(principal, body, requestId);
  }
}
