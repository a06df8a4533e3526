/**
 * Rows travel to D1 as JSON arrays read with `json_each`, so a statement has a constant number of
 * bound parameters (D1 allows 100) whatever the number of rows. A bound value may hold 2 MB;
 * chunks stay near 512 KB.
 */
const MAX_JSON_PARAM = 512 * 1024;

export function jsonChunks<T>(items: readonly T[]): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let size = 0;
  for (const item of items) {
    const json = JSON.stringify(item);
    if (current.length > 0 && size + json.length > MAX_JSON_PARAM) {
      chunks.push(`[${current.join(",")}]`);
      current = [];
      size = 0;
    }
    current.push(json);
    size += json.length + 1;
  }
  if (current.length) chunks.push(`[${current.join(",")}]`);
  return chunks;
}

/** `json_extract(value, '$.a') AS a`-free column list for `SELECT ... FROM json_each(?)`. */
export const jsonFields = (...names: string[]) =>
  names.map((n) => `json_extract(value, '$.${n}')`).join(", ");

export const rowsOf = <T>(result: D1Result<Record<string, unknown>> | undefined) =>
  (result?.results ?? []) as T[];
