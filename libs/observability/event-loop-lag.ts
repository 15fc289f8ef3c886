import { createHistogram, performance } from 'node:perf_hooks';
import type { RecordableHistogram } from 'node:perf_hooks';

export interface LagWindow {
  /** Samples in the window (one per tick that ran). */
  count: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Event-loop lag, measured by a timer that notes how late each of its ticks ran (wall clock,
 * `performance.now()`). Node's `monitorEventLoopDelay` missed most stalls that happen outside
 * the timers phase (a blocking I/O callback, e.g. a request handler), because its timer
 * compares against libuv's cached loop time; this sees every stall as one late tick.
 * `take()` returns the window since the previous take and starts a new one.
 */
export class EventLoopLag {
  private readonly histogram: RecordableHistogram = createHistogram();
  private timer?: NodeJS.Timeout;
  private last = 0;

  constructor(private readonly sampleMs = 20) {}

  start(): this {
    if (this.timer) return this;
    this.last = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      // Microseconds late (at least 1: the histogram records positive integers).
      this.histogram.record(Math.max(1, Math.round((now - this.last - this.sampleMs) * 1000)));
      this.last = now;
    }, this.sampleMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  take(): LagWindow {
    const h = this.histogram;
    const window = {
      count: h.count,
      p99Ms: h.count ? h.percentile(99) / 1000 : 0,
      maxMs: h.count ? h.max / 1000 : 0,
    };
    h.reset();
    return window;
  }
}
