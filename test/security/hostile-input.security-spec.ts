import { credentialFor, problemShapeError, send, variantsOf } from './support/attack';
import { createSecurityWorld, SecurityWorld } from './support/world';

/**
 * Every operation of the OpenAPI document, attacked with inputs generated from its own schema
 * (wrong types, NUL and control characters, lone surrogates, extremes, forged cursors, bad
 * dates and ids, mass-assignment fields, broken encodings and media types): never a 500,
 * every refusal a problem+json, and a refused write changes nothing.
 */
describe('hostile input over every operation', () => {
  let world: SecurityWorld;

  beforeAll(async () => {
    world = await createSecurityWorld();
  }, 600_000);
  afterAll(async () => {
    await world?.close();
  });

  it('never answers 500, always problem+json, and changes nothing when it refuses', async () => {
    const failures: string[] = [];
    let tried = 0;
    let serverErrors = 0;
    for (const op of world.ops) {
      const headers = credentialFor(world, op);
      const writes = op.method !== 'get';
      for (const variant of variantsOf(world.doc, op)) {
        const before = writes ? await world.fingerprint(world.a.id) : undefined;
        const res = await send(world, op, variant, headers);
        tried++;
        if (res.status >= 500) serverErrors++;
        const shape = problemShapeError(res);
        if (shape) failures.push(`${op.name} [${variant.label}]: ${shape}`);
        if (writes && res.status >= 400 && (await world.fingerprint(world.a.id)) !== before) {
          failures.push(`${op.name} [${variant.label}]: refused with ${res.status} but changed data`);
        }
      }
    }
    process.stdout.write(
      `security: ${tried} hostile requests over ${world.ops.length} operations, ${serverErrors} answered 5xx, ${failures.length} failures\n`,
    );
    // Grouped by kind of input and outcome, so one cause shows once with the operations it hit.
    const classes = new Map<string, string[]>();
    for (const failure of failures) {
      const [, op, label, what] = /^(\S+ \S+) \[(.*?)\]: (.*)$/.exec(failure) ?? ['', '?', failure, ''];
      const key = `${label.replace(/=.*/, '=…')} → ${what.slice(0, 50)}`;
      classes.set(key, [...(classes.get(key) ?? []), op]);
    }
    for (const [key, hit] of classes) process.stdout.write(`  ${hit.length}× ${key} (e.g. ${hit[0]})\n`);
    expect(world.ops.length).toBeGreaterThan(50);
    expect(failures.slice(0, 60)).toEqual([]);
  }, 900_000);
});
