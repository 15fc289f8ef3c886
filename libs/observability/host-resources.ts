import { readFile } from 'node:fs/promises';
import { freemem, totalmem } from 'node:os';

async function readNumber(file: string): Promise<number | null> {
  const raw = (await readFile(file, 'utf8').catch(() => '')).trim();
  const n = Number(raw);
  // "max", or v1's "no limit" (a number near 2^63), means none.
  return raw && raw !== 'max' && Number.isFinite(n) && n > 0 && n < 2 ** 60 ? n : null;
}

/** cgroup v2, then v1: the memory limit of this container, if one is set. */
export async function cgroupMemoryLimit(): Promise<number | null> {
  return (
    (await readNumber('/sys/fs/cgroup/memory.max')) ?? (await readNumber('/sys/fs/cgroup/memory/memory.limit_in_bytes'))
  );
}

export interface MemoryHeadroom {
  /** Bytes this process may still use before its container limit (or the host) runs out. */
  available_bytes: number;
  limit_bytes: number;
  /** Where the numbers come from. */
  source: 'cgroup' | 'host';
}

/**
 * Memory still available: under a container limit, the limit minus the cgroup's usage; on a
 * host without one, MemAvailable (what the kernel can give without swapping), else free memory.
 */
export async function memoryHeadroom(): Promise<MemoryHeadroom> {
  const limit = await cgroupMemoryLimit();
  if (limit) {
    const used =
      (await readNumber('/sys/fs/cgroup/memory.current')) ??
      (await readNumber('/sys/fs/cgroup/memory/memory.usage_in_bytes'));
    if (used !== null) return { available_bytes: Math.max(0, limit - used), limit_bytes: limit, source: 'cgroup' };
  }
  const meminfo = await readFile('/proc/meminfo', 'utf8').catch(() => '');
  const kb = /^MemAvailable:\s+(\d+) kB/m.exec(meminfo)?.[1];
  return { available_bytes: kb ? Number(kb) * 1024 : freemem(), limit_bytes: totalmem(), source: 'host' };
}
