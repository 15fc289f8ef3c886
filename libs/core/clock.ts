import { Injectable } from '@nestjs/common';

/**
 * The time as the process sees it. Code whose behaviour depends on elapsed time (caches,
 * expiries) reads it here instead of calling Date.now(), so tests can move it by hand.
 */
@Injectable()
export class Clock {
  now(): number {
    return Date.now();
  }
}

/** A clock that moves only when told to (tests). */
export class ManualClock extends Clock {
  constructor(private at = Date.now()) {
    super();
  }

  override now(): number {
    return this.at;
  }

  advance(ms: number): void {
    this.at += ms;
  }
}
