import type { Scope } from '../../../libs/auth';
import type { AgentDefinition } from '../registry/agent-registry';
import { missingScopes } from '../routing/permission-gate';
import type { ToolCaller } from '../rules-agents';
import { toolByName } from './tool-catalog';
import type { ToolRunner } from './tool-runner.service';

/** One tool call as it happened: what went in and out, or why it was refused or failed. */
export interface ToolCallRecord {
  tool: string;
  version: number;
  input: Record<string, unknown>;
  output: Record<string, unknown> | null;
  outcome: 'ok' | 'denied' | 'failed';
  error: string | null;
  durationMs: number;
}

/** A tool the gate refused: the scopes the caller, the agent or both lack. */
export class GateDenied extends Error {
  constructor(
    readonly tool: string,
    readonly missing: string[],
  ) {
    super(`missing scope(s) ${missing.join(', ')} for tool ${tool}`);
  }
}

/**
 * The tools of one agent acting with `scopes`, behind the permission gate: the agent must list
 * the tool, and every scope the tool needs must be held by the caller and allowed to the agent
 * (caller ∩ agent ∩ tool); a refusal throws GateDenied. Every call lands in `calls`.
 */
export function gatedCaller(
  tools: ToolRunner,
  agent: AgentDefinition,
  scopes: ReadonlySet<Scope> | readonly Scope[],
  calls: ToolCallRecord[],
): ToolCaller {
  return async (name, input) => {
    const tool = toolByName(name)!;
    const missing: string[] = agent.tools.includes(name)
      ? missingScopes(scopes, agent.scopes, tool.scopes)
      : [`(${name} is not a tool of the ${agent.key} agent)`];
    const record = (r: Pick<ToolCallRecord, 'output' | 'outcome' | 'error' | 'durationMs'>) =>
      calls.push({ tool: name, version: tool.version, input, ...r });
    if (missing.length) {
      record({ output: null, outcome: 'denied', error: `missing ${missing.join(', ')}`, durationMs: 0 });
      throw new GateDenied(name, missing);
    }
    const started = process.hrtime.bigint();
    const ms = () => Number(process.hrtime.bigint() - started) / 1e6;
    try {
      const output = await tools.run(name, input);
      record({ output, outcome: 'ok', error: null, durationMs: ms() });
      return output;
    } catch (err) {
      record({ output: null, outcome: 'failed', error: (err as Error).message, durationMs: ms() });
      throw err;
    }
  };
}
