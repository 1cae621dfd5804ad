/** A message that does not follow the wire contract; it will never become valid, so it is dead-lettered. */
export class SchemaError extends Error {
  override readonly name = "SchemaError";
  readonly code = "E_SCHEMA";
  readonly problems: string[];
  constructor(message: string, problems: string[], options?: ErrorOptions) {
    super(`${message}: ${problems.join("; ")}`, options);
    this.problems = problems;
  }
}
