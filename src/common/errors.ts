// The one error type every layer throws for a mistake the user can fix (a missing file, a bad flag, a
// checkpoint from another model). The command line prints its message alone, without a stack trace,
// and exits with `code`; anything else that escapes is a bug and is printed with its stack.

/** An error the user can fix: printed as one message (no stack trace), exit code 1 (or `code`). */
export class UserError extends Error {
  constructor(message: string, readonly code = 1) {
    super(message);
    this.name = 'UserError';
  }
}
