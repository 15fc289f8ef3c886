import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { ProblemException } from './problem-details.filter';
import type { FieldError } from './problem-details';

/** Deeper than any request body of this API; deeper input is refused before it is walked. */
export const MAX_INPUT_DEPTH = 32;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
// A lone surrogate: a high one not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function stringProblem(value: string): string | undefined {
  if (value.includes('\u0000')) return 'must not contain NUL characters';
  if (LONE_SURROGATE.test(value)) return 'must be valid Unicode (lone surrogate)';
  return undefined;
}

/**
 * Finds what no field of this API accepts, wherever it sits in a body or query: NUL characters
 * and lone UTF-16 surrogates in strings (PostgreSQL cannot store them), keys that address
 * prototypes, and nesting deeper than MAX_INPUT_DEPTH. Iterative, so absurd nesting cannot
 * exhaust the stack. Returns every problem with its field path.
 */
export function findHostileInput(input: unknown): FieldError[] {
  const problems: FieldError[] = [];
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: input, path: '', depth: 0 }];
  while (stack.length && problems.length < 20) {
    const { value, path, depth } = stack.pop()!;
    const field = path || 'body';
    if (typeof value === 'string') {
      const message = stringProblem(value);
      if (message) problems.push({ field, message });
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_INPUT_DEPTH) {
      problems.push({ field, message: `is nested deeper than ${MAX_INPUT_DEPTH} levels` });
      continue;
    }
    for (const key of Object.keys(value)) {
      const at = Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      if (!Array.isArray(value)) {
        const keyProblem = FORBIDDEN_KEYS.has(key) ? 'is not an accepted field name' : stringProblem(key);
        if (keyProblem) {
          problems.push({ field: at, message: keyProblem });
          continue;
        }
      }
      stack.push({ value: (value as Record<string, unknown>)[key], path: at, depth: depth + 1 });
    }
  }
  return problems;
}

/** Runs before validation on every body and query: hostile input is a 400 naming each field. */
@Injectable()
export class HostileInputPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'body' && metadata.type !== 'query') return value;
    const problems = findHostileInput(value);
    if (problems.length) {
      throw new ProblemException(400, `The request is invalid: ${problems.map((p) => p.field).join(', ')}.`, {
        errors: problems,
      });
    }
    return value;
  }
}
