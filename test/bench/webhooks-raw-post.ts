/**
 * The raw ceiling of `npm run bench:webhooks` (forked by webhooks.bench.ts with an IPC channel;
 * not run by hand): a plain Node loop with no database that signs the same kind of payloads
 * with the app's own Standard Webhooks signer and POSTs them with the app's own HTTP client
 * (kept-alive connections per origin, connect-time address check) to the bench's receiver, at
 * the app's concurrency. Both come from the built code.
 *
 * Input: BENCH_RAW_POST_CONFIG (JSON, see RawPostConfig). Messages to the parent: {type:'ready'},
 * then after {type:'go'}: {type:'done', sent, ok, failed, ms}. From the parent: 'go' starts.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export interface RawPostConfig {
  root: string;
  urls: string[];
  secrets: string[];
  requests: number;
  concurrency: number;
}

type Signer = (
  payload: Record<string, unknown>,
  format: 'standard',
  secrets: readonly string[],
  nowMs: number,
) => { body: string; headers: Record<string, string> };
type Post = (
  url: string,
  body: string,
  headers: Record<string, string>,
  opts: { timeoutMs: number; allowLoopback: boolean; allowHttp: boolean },
) => Promise<{ statusCode: number }>;

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env.BENCH_RAW_POST_CONFIG ?? '') as RawPostConfig;
  const { webhookRequest } = require(join(cfg.root, 'dist', 'src', 'webhooks', 'standard-webhooks.js')) as {
    webhookRequest: Signer;
  };
  const { postJson } = require(join(cfg.root, 'dist', 'src', 'webhooks', 'outbound-http.js')) as { postJson: Post };
  const send = (m: object) => process.send?.(m);
  await new Promise<void>((go) => {
    process.on('message', (m: { type?: string }) => m?.type === 'go' && go());
    send({ type: 'ready' });
  });
  let next = 0;
  let ok = 0;
  let failed = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < cfg.requests) {
      const i = next++;
      const k = i % cfg.urls.length;
      const payload = {
        id: `raw-${process.pid}-${i}`,
        type: 'webhook.test',
        created_at: new Date().toISOString(),
        org_id: '00000000-0000-4000-8000-000000000000',
        data: { target_endpoint_id: '00000000-0000-4000-8000-000000000001', seq: i },
      };
      const { body, headers } = webhookRequest(payload, 'standard', [cfg.secrets[k]], Date.now());
      try {
        const res = await postJson(cfg.urls[k], body, headers, {
          timeoutMs: 30_000,
          allowLoopback: true,
          allowHttp: true,
        });
        if (res.statusCode >= 200 && res.statusCode < 300) ok++;
        else failed++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: cfg.concurrency }, lane));
  send({ type: 'done', sent: cfg.requests, ok, failed, ms: performance.now() - started });
  process.disconnect?.();
}

process.on('disconnect', () => process.exit(0));
main().catch((err: Error) => {
  process.send?.({ type: 'error', message: `raw POST loop failed: ${err.message}` });
  process.exit(1);
});
