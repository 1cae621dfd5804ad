/** A message that does not follow the wire contract; it will never become valid, so it is dead-lettered. */
export class SchemaError extends Error {
  override readonly name = "SchemaError";
  readonly code = "E_SCHEMA";
  constructor(
    message: string,
    readonly problems: string[],
    options?: ErrorOptions,
  ) {
    super(`${message}: ${problems.join("; ")}`, options);
  }
}
