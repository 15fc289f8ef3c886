// e2e tests boot real apps and processes on a real PostgreSQL; give them room.
jest.setTimeout(120_000);
