import { createHash } from 'node:crypto';
import { canonicalJson } from '../../libs/audit';

/** What an approval is bound to: the tool, its version and the exact arguments (canonical JSON). */
export function argumentsHash(tool: string, version: number, args: Record<string, unknown>): string {
  return createHash('sha256')
    .update(canonicalJson({ tool, version, arguments: args }))
    .digest('hex');
}
