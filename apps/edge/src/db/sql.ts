/**
 * SQL text with its values kept apart: the `sql` tag turns each interpolated value into a `?`
 * parameter bound by D1, never into text, so no value can change a statement's meaning. A `Query`
 * interpolated into another is spliced in with its own parameters; `sql.raw` is for text we write
 * ourselves (column lists), never for input.
 *
 *   sql`SELECT ${sql.raw(ENTRY_COLUMNS)} FROM blocklist_entries WHERE account_id = ${accountId}`
 */

/** What D1 binds. A boolean is stored as 0 or 1, as SQLite does. */
export type SqlValue = string | number | null | boolean | ArrayBuffer;

export interface Query {
  readonly text: string;
  readonly params: readonly (string | number | null | ArrayBuffer)[];
}

const isQuery = (value: unknown): value is Query =>
  typeof value === "object" && value !== null && "text" in value && "params" in value;

export function sql(strings: TemplateStringsArray, ...values: (SqlValue | Query)[]): Query {
  let text = strings[0] ?? "";
  const params: (string | number | null | ArrayBuffer)[] = [];
  values.forEach((value, i) => {
    if (isQuery(value)) {
      text += value.text;
      params.push(...value.params);
    } else if (value === undefined) {
      // A missing value is a bug in the caller, not a NULL.
      throw new TypeError(
        `sql: parameter ${i + 1} is undefined in \`${strings.join("?").trim().slice(0, 80)}\``,
      );
    } else {
      text += "?";
      params.push(typeof value === "boolean" ? (value ? 1 : 0) : value);
    }
    text += strings[i + 1];
  });
  return { text, params };
}

/** Text we wrote, spliced in as is. */
sql.raw = (text: string): Query => ({ text, params: [] });

/** Queries joined by `separator` (e.g. `, ` for value lists), each keeping its parameters. */
sql.join = (parts: readonly Query[], separator: string): Query => ({
  text: parts.map((p) => p.text).join(separator),
  params: parts.flatMap((p) => p.params),
});
