/**
 * Transport-free domain errors. The edge maps `code` to an HTTP status in one place;
 * nothing in core knows about HTTP.
 */
export const DomainErrorCode = [
  "invalid_address",
  "invalid_input",
  "invalid_signature",
  "not_found",
  "conflict",
  "chain_broken",
] as const;
export type DomainErrorCode = (typeof DomainErrorCode)[number];

export class DomainError extends Error {
  override readonly name = "DomainError";
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;
