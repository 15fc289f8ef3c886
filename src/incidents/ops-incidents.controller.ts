import { Body, Controller, Get, Header, HttpCode, Param, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Scopes } from '../../libs/auth';
import type { Principal } from '../../libs/auth';
import {
  ActionRequestDto,
  DeclareIncidentDto,
  ImpactDto,
  IncidentActionDto,
  IncidentDto,
  IncidentListQueryDto,
  IncidentPageDto,
  NoteDto,
  PostmortemQueryDto,
  RecommendationsDto,
  TimelineDto,
  TimelineEntryDto,
  TransitionDto,
} from './dto/incident.dto';
import { IncidentLifecycle } from './incident-lifecycle.service';
import { IncidentTimeline } from './incident-timeline';
import type { TransitionName } from './incident-transitions';
import { toIncidentDto } from './incident-views';
import { OpsIncidentsService } from './ops-incidents.service';
import { postmortemMarkdown, PostmortemService } from './postmortem.service';
import type { Postmortem } from './postmortem.service';

const actorOf = (p: Principal) => `${p.kind}:${p.subject}`;

/** Platform operators' incident desk (platform:admin). */
@ApiTags('ops')
@Controller('api/ops/incidents')
@Scopes('platform:admin')
export class OpsIncidentsController {
  constructor(
    private readonly incidents: OpsIncidentsService,
    private readonly lifecycle: IncidentLifecycle,
    private readonly timeline: IncidentTimeline,
    private readonly postmortems: PostmortemService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Incidents, newest first; filter by status and severity.' })
  @ApiOkResponse({ type: IncidentPageDto })
  list(@Query() query: IncidentListQueryDto): Promise<IncidentPageDto> {
    return this.incidents.list(query);
  }

  @Post()
  @ApiOperation({ summary: 'Declare an incident by hand (status triage); named orgs see it.' })
  @ApiCreatedResponse({ type: IncidentDto })
  async declare(@Body() body: DeclareIncidentDto, @CurrentPrincipal() p: Principal): Promise<IncidentDto> {
    return toIncidentDto(await this.lifecycle.declare(body, actorOf(p)));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One incident.' })
  @ApiOkResponse({ type: IncidentDto })
  @ApiNotFoundResponse({ description: 'No such incident' })
  async get(@Param('id', ParseUUIDPipe) id: string): Promise<IncidentDto> {
    return toIncidentDto(await this.lifecycle.find(id));
  }

  @Post(':id/ack')
  @HttpCode(200)
  @ApiOperation({ summary: 'Acknowledge: triage → active.' })
  @ApiOkResponse({ type: IncidentDto })
  @ApiConflictResponse({ description: 'Not allowed from the current status' })
  ack(@Param('id', ParseUUIDPipe) id: string, @Body() body: TransitionDto, @CurrentPrincipal() p: Principal) {
    return this.move(id, 'ack', body, p);
  }

  @Post(':id/mitigate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Mitigated: triage|active → mitigated; the postmortem draft becomes available.' })
  @ApiOkResponse({ type: IncidentDto })
  @ApiConflictResponse({ description: 'Not allowed from the current status' })
  mitigate(@Param('id', ParseUUIDPipe) id: string, @Body() body: TransitionDto, @CurrentPrincipal() p: Principal) {
    return this.move(id, 'mitigate', body, p);
  }

  @Post(':id/resolve')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resolve: triage|active|mitigated → resolved; its actions are reverted.' })
  @ApiOkResponse({ type: IncidentDto })
  @ApiConflictResponse({ description: 'Not allowed from the current status' })
  resolve(@Param('id', ParseUUIDPipe) id: string, @Body() body: TransitionDto, @CurrentPrincipal() p: Principal) {
    return this.move(id, 'resolve', body, p);
  }

  @Post(':id/close')
  @HttpCode(200)
  @ApiOperation({ summary: 'Close: resolved → closed; `note` holds the lessons learned.' })
  @ApiOkResponse({ type: IncidentDto })
  @ApiConflictResponse({ description: 'Not allowed from the current status' })
  close(@Param('id', ParseUUIDPipe) id: string, @Body() body: TransitionDto, @CurrentPrincipal() p: Principal) {
    return this.move(id, 'close', body, p);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel (false positive): triage|active|mitigated → cancelled; actions reverted.' })
  @ApiOkResponse({ type: IncidentDto })
  @ApiConflictResponse({ description: 'Not allowed from the current status' })
  cancel(@Param('id', ParseUUIDPipe) id: string, @Body() body: TransitionDto, @CurrentPrincipal() p: Principal) {
    return this.move(id, 'cancel', body, p);
  }

  @Post(':id/notes')
  @ApiOperation({ summary: 'Add a note to the timeline.' })
  @ApiCreatedResponse({ type: TimelineEntryDto })
  async note(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: NoteDto,
    @CurrentPrincipal() p: Principal,
  ): Promise<TimelineEntryDto> {
    await this.lifecycle.note(id, body.text, actorOf(p));
    const entries = await this.timeline.list(id);
    return entries[entries.length - 1];
  }

  @Post(':id/actions')
  @ApiOperation({
    summary: 'Apply a catalog action (reversible, time-bounded; reverted when the incident resolves or is cancelled).',
  })
  @ApiCreatedResponse({ type: IncidentActionDto })
  @ApiConflictResponse({ description: 'The incident is not open' })
  act(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: ActionRequestDto,
    @CurrentPrincipal() p: Principal,
  ): Promise<IncidentActionDto> {
    return this.incidents.act(id, body.action, body.params ?? {}, actorOf(p));
  }

  @Get(':id/timeline')
  @ApiOperation({ summary: 'The append-only timeline: detection, state changes, notes, actions, metric snapshots.' })
  @ApiOkResponse({ type: TimelineDto })
  async timelineOf(@Param('id', ParseUUIDPipe) id: string): Promise<TimelineDto> {
    await this.lifecycle.find(id);
    return { items: await this.timeline.list(id) };
  }

  @Get(':id/impact')
  @ApiOperation({ summary: 'Which orgs the incident affects, and how.' })
  @ApiOkResponse({ type: ImpactDto })
  impact(@Param('id', ParseUUIDPipe) id: string): Promise<ImpactDto> {
    return this.incidents.impact(id);
  }

  @Get(':id/recommendations')
  @ApiOperation({ summary: "The rule's safe actions and the operator steps it recommends, with the actions taken." })
  @ApiOkResponse({ type: RecommendationsDto })
  recommendations(@Param('id', ParseUUIDPipe) id: string): Promise<RecommendationsDto> {
    return this.incidents.recommendations(id);
  }

  @Get(':id/postmortem')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'The postmortem draft (from mitigated on): JSON, or Markdown with ?format=markdown.' })
  @ApiProduces('application/json', 'text/markdown')
  @ApiOkResponse({ description: 'The postmortem' })
  @ApiConflictResponse({ description: 'Not mitigated yet, or cancelled' })
  async postmortem(
    @Param('id', ParseUUIDPipe) id: string,
    @Query() query: PostmortemQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<Postmortem | string> {
    const pm = await this.postmortems.build(await this.lifecycle.find(id));
    if (query.format !== 'markdown') return pm;
    res.type('text/markdown; charset=utf-8');
    return postmortemMarkdown(pm);
  }

  private async move(id: string, name: TransitionName, body: TransitionDto, p: Principal): Promise<IncidentDto> {
    return toIncidentDto(await this.lifecycle.transition(id, name, actorOf(p), body.note));
  }
}
