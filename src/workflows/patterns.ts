import type { Pattern } from './entities/workflow-run.entity';
import type { StepOutput } from './entities/workflow-step.entity';

export interface WorkflowInput {
  message: string;
  context?: Record<string, string>;
}

export interface WorkflowOptions {
  /** debate: rounds of answers before the judge (1..5, default 2). */
  rounds?: number;
  /** debate: the judging agent, or `triage` (default): the most confident final answer wins. */
  judge?: string;
  /** parallel: an agent that reads every output and answers; default: the outputs side by side. */
  aggregator?: string;
  /** verification: maker/checker rounds before giving up (1..10, default 3). */
  max_rounds?: number;
  /** panel: the share of confidence the winning verdict needs (0..1, default 0.6). */
  agreement?: number;
}

export interface WorkflowSpec {
  pattern: Pattern;
  agents: string[];
  input: WorkflowInput;
  options: WorkflowOptions;
}

export interface StepKey {
  step: number;
  branch: number;
  round: number;
  agent: string;
}

export interface PlannedStep extends StepKey {
  input: WorkflowInput;
}

export interface DoneStep extends StepKey {
  output: StepOutput;
}

export type Plan =
  | { kind: 'steps'; steps: PlannedStep[] }
  | { kind: 'done'; status: 'completed' | 'escalated'; result: Record<string, unknown> };

const key = (s: StepKey) => `${s.step}/${s.branch}/${s.round}`;

/** The most steps a workflow of this spec can take (WORKFLOW_MAX_STEPS is checked against it). */
export function maxSteps(spec: WorkflowSpec): number {
  const n = spec.agents.length;
  switch (spec.pattern) {
    case 'sequential':
    case 'panel':
      return n;
    case 'parallel':
      return n + (spec.options.aggregator ? 1 : 0);
    case 'debate':
      return n * rounds(spec) + (judgeAgent(spec) ? 1 : 0);
    case 'verification':
      return 2 * maxRounds(spec);
  }
}

const rounds = (spec: WorkflowSpec) => spec.options.rounds ?? 2;
const maxRounds = (spec: WorkflowSpec) => spec.options.max_rounds ?? 3;
const judgeAgent = (spec: WorkflowSpec) =>
  spec.options.judge && spec.options.judge !== 'triage' ? spec.options.judge : null;

function withMessage(input: WorkflowInput, message: string): WorkflowInput {
  return { ...input, message };
}

function quoted(steps: DoneStep[]): string {
  return steps.map((s) => `${s.agent}: ${s.output.answer}`).join('\n\n');
}

/** Codes of an answer's findings (objects of the evidence carrying a `code`). */
export function findingCodes(output: StepOutput): string[] {
  return [
    ...new Set(
      output.evidence
        .map((e) => (e && typeof e === 'object' ? (e as { code?: unknown }).code : undefined))
        .filter((c): c is string => typeof c === 'string'),
    ),
  ].sort();
}

/**
 * What a workflow does next, from its spec and the steps already finished: the next steps to run
 * (each independent of the others in the list), or its end with the result. Pure and
 * deterministic: the same spec and steps always give the same plan, which is what lets a
 * successor worker resume exactly where a dead one stopped.
 */
export function plan(spec: WorkflowSpec, done: DoneStep[]): Plan {
  const have = new Map(done.map((d) => [key(d), d]));
  const missing = (steps: PlannedStep[]): Plan | null => {
    const left = steps.filter((s) => !have.has(key(s)));
    return left.length ? { kind: 'steps', steps: left } : null;
  };
  const at = (step: number, branch: number, round: number) => have.get(key({ step, branch, round, agent: '' }))!;
  const { agents, input } = spec;

  switch (spec.pattern) {
    case 'sequential': {
      for (let i = 0; i < agents.length; i++) {
        if (have.has(key({ step: i, branch: 0, round: 0, agent: '' }))) continue;
        const prev = i > 0 ? at(i - 1, 0, 0) : null;
        const message = prev
          ? `${input.message}\n\nThe ${prev.agent} agent said:\n${prev.output.answer}`
          : input.message;
        return {
          kind: 'steps',
          steps: [{ step: i, branch: 0, round: 0, agent: agents[i], input: withMessage(input, message) }],
        };
      }
      const chain = agents.map((_, i) => at(i, 0, 0));
      return {
        kind: 'done',
        status: 'completed',
        result: {
          answer: chain[chain.length - 1].output.answer,
          chain: chain.map((c) => ({ agent: c.agent, answer: c.output.answer })),
        },
      };
    }

    case 'parallel': {
      const fan = missing(agents.map((agent, b) => ({ step: 0, branch: b, round: 0, agent, input })));
      if (fan) return fan;
      const outputs = agents.map((agent, b) => ({
        agent,
        answer: at(0, b, 0).output.answer,
        confidence: at(0, b, 0).output.confidence,
        findings: findingCodes(at(0, b, 0).output),
      }));
      const aggregator = spec.options.aggregator;
      if (!aggregator) return { kind: 'done', status: 'completed', result: { outputs } };
      const merged = missing([
        {
          step: 1,
          branch: 0,
          round: 0,
          agent: aggregator,
          input: withMessage(input, `${input.message}\n\n${quoted(agents.map((_, b) => at(0, b, 0)))}`),
        },
      ]);
      if (merged) return merged;
      return { kind: 'done', status: 'completed', result: { answer: at(1, 0, 0).output.answer, aggregator, outputs } };
    }

    case 'debate': {
      const r = rounds(spec);
      for (let round = 0; round < r; round++) {
        const others = (b: number) =>
          agents
            .map((_, o) => o)
            .filter((o) => o !== b)
            .map((o) => at(round - 1, o, round - 1));
        const next = missing(
          agents.map((agent, b) => ({
            step: round,
            branch: b,
            round,
            agent,
            input:
              round === 0
                ? input
                : withMessage(input, `${input.message}\n\nThe others answered:\n${quoted(others(b))}`),
          })),
        );
        if (next) return next;
      }
      const finals = agents.map((agent, b) => ({ agent, branch: b, output: at(r - 1, b, r - 1).output }));
      const judge = judgeAgent(spec);
      if (judge) {
        const verdict = missing([
          {
            step: r,
            branch: 0,
            round: r,
            agent: judge,
            input: withMessage(
              input,
              `${input.message}\n\nJudge between:\n${quoted(finals.map((f) => ({ ...f, step: 0, round: 0 })))}`,
            ),
          },
        ]);
        if (verdict) return verdict;
        return { kind: 'done', status: 'completed', result: { answer: at(r, 0, r).output.answer, judge, rounds: r } };
      }
      // The triage judge: the most confident final answer, the first on a tie.
      const best = finals.reduce((a, b) => (b.output.confidence > a.output.confidence ? b : a));
      return {
        kind: 'done',
        status: 'completed',
        result: { answer: best.output.answer, winner: best.agent, judge: 'triage', rounds: r },
      };
    }

    case 'verification': {
      const [maker, checker] = agents;
      for (let round = 0; round < maxRounds(spec); round++) {
        const drafted = missing([{ step: 0, branch: 0, round, agent: maker, input }]);
        if (drafted) return drafted;
        const draft = at(0, 0, round).output;
        const check = missing([
          {
            step: 1,
            branch: 0,
            round,
            agent: checker,
            input: withMessage(input, `${input.message}\n\nVerify this answer against the data:\n${draft.answer}`),
          },
        ]);
        if (check) return check;
        const claimed = findingCodes(draft);
        const seen = new Set(findingCodes(at(1, 0, round).output));
        const unconfirmed = claimed.filter((c) => !seen.has(c));
        if (!unconfirmed.length) {
          return {
            kind: 'done',
            status: 'completed',
            result: { answer: draft.answer, verified: true, rounds: round + 1, confirmed: claimed },
          };
        }
      }
      const last = at(0, 0, maxRounds(spec) - 1).output;
      return {
        kind: 'done',
        status: 'escalated',
        result: {
          answer: last.answer,
          verified: false,
          rounds: maxRounds(spec),
          escalation: {
            reason: 'unverified',
            detail: `the ${checker} agent could not confirm: ${findingCodes(last).join(', ')}`,
          },
        },
      };
    }

    case 'panel': {
      const votes = missing(agents.map((agent, b) => ({ step: 0, branch: b, round: 0, agent, input })));
      if (votes) return votes;
      const ballots = agents.map((agent, b) => {
        const out = at(0, b, 0).output;
        return { agent, verdict: findingCodes(out)[0] ?? 'no_finding', confidence: out.confidence, answer: out.answer };
      });
      const weight = new Map<string, number>();
      for (const v of ballots) weight.set(v.verdict, (weight.get(v.verdict) ?? 0) + v.confidence);
      const total = [...weight.values()].reduce((a, b) => a + b, 0);
      const [decision, top] = [...weight.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
      const agreement = total > 0 ? Math.round((top / total) * 1000) / 1000 : 0;
      const needed = spec.options.agreement ?? 0.6;
      const result = { decision, agreement, needed, votes: ballots };
      return agreement >= needed
        ? { kind: 'done', status: 'completed', result }
        : {
            kind: 'done',
            status: 'escalated',
            result: { ...result, escalation: { reason: 'disagreement', detail: `agreement ${agreement} < ${needed}` } },
          };
    }
  }
}
