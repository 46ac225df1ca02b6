/** A problem the user can fix (a setting, a missing package): printed as is, exit code 1. */
export class LocalStackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalStackError';
  }
}
