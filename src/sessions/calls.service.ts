import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import type { Principal } from '../../libs/auth';
import { assertActsFor, assertSupervising } from './agent-binding';
import { returningRows, TenantContext } from '../../libs/database';
import { EventPublisher } from '../../libs/events';
import { CallRouter } from './call-router.service';
import type { CallDto, InboundCallDto, InboundCallResultDto } from './dto/call.dto';
import { Call } from './entities/call.entity';
import type { CallStatus } from './entities/call.entity';
import { AgentSession } from './entities/agent-session.entity';
import { changeStatus } from './status-history';

const ENDED: CallStatus[] = ['completed', 'abandoned', 'failed'];

export function toCallDto(c: Call): CallDto {
  return {
    id: c.id,
    external_id: c.externalId,
    from: c.fromNumber,
    to: c.toNumber,
    status: c.status,
    agent_id: c.agentId,
    session_id: c.sessionId,
    reserved_until: c.reservedUntil?.toISOString() ?? null,
    offer_count: c.offerCount,
    queued_at: c.queuedAt.toISOString(),
    assigned_at: c.assignedAt?.toISOString() ?? null,
    answered_at: c.answeredAt?.toISOString() ?? null,
    ended_at: c.endedAt?.toISOString() ?? null,
    end_reason: c.endReason,
  };
}

/** Inbound calls: queued, offered to an agent (ringing), answered, ended exactly once. */
@Injectable()
export class CallsService {
  constructor(
    private readonly tenant: TenantContext,
    private readonly router: CallRouter,
    private readonly events: EventPublisher,
  ) {}

  async inbound(
    dto: InboundCallDto,
    principal?: Principal,
  ): Promise<{ created: boolean; result: InboundCallResultDto }> {
    assertSupervising(principal);
    const repo = this.tenant.repo(Call);
    // A provider's retry of the same call id (even a concurrent one) finds the call that won.
    const [inserted] = await returningRows<{ id: string }>(
      this.tenant.manager,
      `INSERT INTO calls (org_id, from_number, to_number, external_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (org_id, external_id) WHERE external_id IS NOT NULL DO NOTHING RETURNING id`,
      [this.tenant.orgId, dto.from, dto.to ?? null, dto.external_id ?? null],
    );
    if (!inserted) {
      const winner = await repo.findOneByOrFail({ externalId: dto.external_id! });
      return { created: false, result: this.result(winner) };
    }
    await this.router.offerQueuedIn();
    return { created: true, result: this.result(await repo.findOneByOrFail({ id: inserted.id })) };
  }

  async get(id: string): Promise<CallDto> {
    return toCallDto(await this.find(id, false));
  }

  async answer(id: string, principal?: Principal): Promise<CallDto> {
    const call = await this.find(id, true);
    await assertActsFor(this.tenant.manager, principal, call.agentId);
    if (call.status !== 'ringing') throw new ConflictException(`Cannot answer a call that is ${call.status}.`);
    await this.tenant
      .repo(Call)
      .update({ id }, { status: 'in_progress', answeredAt: () => 'now()', reservedUntil: null });
    return toCallDto(await this.find(id, false));
  }

  /**
   * Ends a call. The agent's active_calls drops in the same transaction as the status change,
   * under the call's row lock, so however often `end` is called it drops exactly once.
   */
  async end(id: string, reason?: string, principal?: Principal): Promise<CallDto> {
    const m = this.tenant.manager;
    const call = await this.find(id, true);
    await assertActsFor(m, principal, call.agentId);
    if (ENDED.includes(call.status)) return toCallDto(call);
    const to: CallStatus = call.status === 'queued' ? 'abandoned' : 'completed';
    await m.update(
      Call,
      { id },
      { status: to, endedAt: () => 'now()', endReason: reason ?? null, reservedUntil: null },
    );
    if (call.sessionId) await this.releaseSession(call.sessionId, call.id);
    const ended = await this.find(id, false);
    await this.events.publish('call.completed', {
      call_id: call.id,
      external_id: call.externalId,
      agent_id: call.agentId,
      session_id: call.sessionId,
      status: to,
      end_reason: reason ?? null,
      duration_seconds:
        ended.answeredAt && ended.endedAt
          ? Math.round((ended.endedAt.getTime() - ended.answeredAt.getTime()) / 1000)
          : 0,
    });
    await this.router.offerQueuedIn();
    return toCallDto(ended);
  }

  /** The agent is free of this call: count, pointer, wrap-up, and a pending away/offline applied. */
  private async releaseSession(sessionId: string, callId: string): Promise<void> {
    const m = this.tenant.manager;
    const [s] = await returningRows<{ active_calls: number; pending_status: 'away' | 'offline' | null }>(
      m,
      `UPDATE agent_sessions s SET active_calls = greatest(s.active_calls - 1, 0),
         current_call_id = (SELECT c.id FROM calls c WHERE c.session_id = s.id AND c.id <> $2 AND c.status IN ('ringing', 'in_progress') LIMIT 1),
         ready_at = now() + make_interval(secs => (SELECT wrap_up_seconds FROM call_agents a WHERE a.id = s.agent_id)),
         idle_since = CASE WHEN s.active_calls - 1 <= 0 THEN now() ELSE s.idle_since END
       WHERE s.id = $1 RETURNING s.active_calls, s.pending_status`,
      [sessionId, callId],
    );
    if (s && s.active_calls === 0 && s.pending_status) {
      const session = await m.findOneByOrFail(AgentSession, { id: sessionId });
      await changeStatus(
        m,
        this.events,
        session,
        s.pending_status,
        'system',
        'pending status applied after the last call',
        {
          pending_status: null,
        },
      );
    }
  }

  private async find(id: string, lock: boolean): Promise<Call> {
    const call = await this.tenant
      .repo(Call)
      .findOne({ where: { id }, ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    if (!call) throw new NotFoundException('No such call.');
    return call;
  }

  private result(c: Call): InboundCallResultDto {
    return {
      call_id: c.id,
      status: c.status,
      ...(c.agentId ? { agent_id: c.agentId } : {}),
      ...(c.sessionId ? { session_id: c.sessionId } : {}),
    };
  }
}
