import { TimeoutError, withTimeout } from './with-timeout';

describe('withTimeout', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('settles like the work when it is in time, and leaves no timer behind', async () => {
    await expect(withTimeout(Promise.resolve(7), 1000, 'x')).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('boom')), 1000, 'x')).rejects.toThrow('boom');
    expect(jest.getTimerCount()).toBe(0);
  });

  it('rejects with a TimeoutError naming the work after ms', async () => {
    const never = new Promise<number>(() => undefined);
    const raced = withTimeout(never, 500, 'the database');
    jest.advanceTimersByTime(499);
    await Promise.resolve();
    const settled = jest.fn();
    raced.then(settled, settled);
    await Promise.resolve();
    expect(settled).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    await expect(raced).rejects.toEqual(new TimeoutError('the database', 500));
    await expect(raced).rejects.toThrow('the database did not answer within 500 ms');
  });

  it('absorbs a late rejection of the work', async () => {
    let reject!: (err: Error) => void;
    const late = new Promise<number>((_, r) => (reject = r));
    const raced = withTimeout(late, 10, 'x');
    jest.advanceTimersByTime(10);
    await expect(raced).rejects.toBeInstanceOf(TimeoutError);
    reject(new Error('too late'));
    await Promise.resolve();
  });

  it('waits forever when ms is not finite', async () => {
    await expect(withTimeout(Promise.resolve(1), Infinity, 'x')).resolves.toBe(1);
    expect(jest.getTimerCount()).toBe(0);
  });
});
