// Integration and e2e suites start real servers; give them room, but never unbounded.
jest.setTimeout(60_000);
