import { Body, Controller, Get, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Scopes } from '../../../libs/auth';
import type { Principal } from '../../../libs/auth';
import { RequestId } from '../../../libs/http';
import { DriversService } from './drivers.service';
import { CreateDriverDto, DriverDto, DriverListQueryDto, DriverPageDto, UpdateDriverDto } from './dto/driver.dto';

@ApiTags('payroll')
@Controller('api/payroll/drivers')
export class DriversController {
  constructor(private readonly drivers: DriversService) {}

  @Post()
  @Scopes('payroll:write')
  @ApiOperation({ summary: 'Add a driver. A repeated external_ref within the org is a 409.' })
  @ApiCreatedResponse({ type: DriverDto })
  create(
    @Body() body: CreateDriverDto,
    @CurrentPrincipal() principal: Principal,
    @RequestId() requestId?: string,
  ): Promise<DriverDto> {
    return this.drivers.create(principal, body, requestId);
  }

  @Get()
  @Scopes('payroll:read')
  @ApiOperation({ summary: "List the org's drivers, newest first." })
  @ApiOkResponse({ type: DriverPageDto })
  list(@Query() query: DriverListQueryDto): Promise<DriverPageDto> {
    return this.drivers.list(query);
  }

  @Get(':id')
  @Scopes('payroll:read')
  @ApiOperation({ summary: 'One driver.' })
  @ApiOkResponse({ type: DriverDto })
  get(@Param('id', ParseUUIDPipe) id: string): Promise<DriverDto> {
    return this.drivers.get(id);
  }

  @Patch(':id')
  @Scopes('payroll:write')
  @ApiOperation({ summary: 'Change any of the fields; external_ref: null clears it. An empty body changes nothing.' })
  @ApiOkResponse({ type: DriverDto })
  update(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: UpdateDriverDto,
    @CurrentPrincipal() principal: Principal,
    @RequestId() requestId?: string,
  ): Promise<DriverDto> {
    return this.drivers.update(principal, id, body, requestId);
  }
}
