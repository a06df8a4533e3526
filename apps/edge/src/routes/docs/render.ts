/**
 * Renders the OpenAPI document as one self-contained HTML page: no scripts, no CDN, no external
 * fonts, so /docs works offline and under any Content-Security-Policy.
 */

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: unknown }[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
}

export interface Document {
  info: { title: string; version: string; description?: string };
  paths?: Record<string, Record<string, Operation>>;
  components?: {
    schemas?: Record<string, unknown>;
    securitySchemes?: Record<string, { description?: string }>;
  };
}

const METHODS = ["get", "head", "post", "put", "patch", "delete"];

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!,
  );

/** `code` spans for backticks, nothing else: descriptions are ours, but still escaped first. */
const prose = (s = "") => escapeHtml(s).replace(/`([^`]+)`/g, "<code>$1</code>");

function schemaBlock(schema: unknown): string {
  const json = escapeHtml(JSON.stringify(schema, null, 2)).replace(
    /&quot;#\/components\/schemas\/([\w.-]+)&quot;/g,
    (_, name: string) => `<a href="#schema-${name}">${name}</a>`,
  );
  return `<pre>${json}</pre>`;
}

function operationHtml(method: string, path: string, op: Operation): string {
  const id = `${method}-${path}`.replace(/[^\w-]+/g, "-");
  const auth = op.security?.flatMap((s) => Object.keys(s)).join(", ") || "none";
  const params = op.parameters?.length
    ? `<table><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th></tr>${op.parameters
        .map(
          (p) =>
            `<tr><td><code>${escapeHtml(p.name)}</code></td><td>${escapeHtml(p.in)}</td><td>${p.required ? "yes" : "no"}</td><td><code>${escapeHtml(JSON.stringify(p.schema ?? {}))}</code>${p.description ? `<br>${prose(p.description)}` : ""}</td></tr>`,
        )
        .join("")}</table>`
    : "";
  const body = op.requestBody?.content
    ? Object.entries(op.requestBody.content)
        .map(
          ([type, media]) =>
            `<h4>Request body <code>${escapeHtml(type)}</code></h4>${schemaBlock(media.schema)}`,
        )
        .join("")
    : "";
  const responses = Object.entries(op.responses ?? {})
    .map(([status, r]) => {
      const schema = r.content ? Object.values(r.content)[0]?.schema : undefined;
      return `<details><summary><b>${escapeHtml(status)}</b> ${prose(r.description)}</summary>${schema ? schemaBlock(schema) : ""}</details>`;
    })
    .join("");
  return `<section class="op" id="${id}">
<h3><span class="m m-${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code> — ${prose(op.summary)}</h3>
<p>${prose(op.description)}</p>
<p class="auth">Auth: <code>${escapeHtml(auth)}</code></p>
${params}${body}<h4>Responses</h4>${responses}
</section>`;
}

export function renderDocs(doc: Document): string {
  const ops: { method: string; path: string; op: Operation }[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (op) ops.push({ method, path, op });
    }
  }
  const toc = ops
    .map(
      ({ method, path, op }) =>
        `<li><a href="#${`${method}-${path}`.replace(/[^\w-]+/g, "-")}"><span class="m m-${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></a> ${prose(op.summary)}</li>`,
    )
    .join("");
  const schemes = Object.entries(doc.components?.securitySchemes ?? {})
    .map(([name, s]) => `<li><code>${escapeHtml(name)}</code>: ${prose(s.description)}</li>`)
    .join("");
  const schemas = Object.entries(doc.components?.schemas ?? {})
    .map(
      ([name, s]) =>
        `<section id="schema-${escapeHtml(name)}"><h3>${escapeHtml(name)}</h3>${schemaBlock(s)}</section>`,
    )
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(doc.info.title)} — API reference</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem 1.5rem;color:#1d1d1f}
code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
pre{background:#f5f5f7;padding:.75rem;overflow:auto;border-radius:6px}
.op{border-top:1px solid #ddd;padding-top:.5rem;margin-top:1.5rem}
.m{display:inline-block;min-width:4.2em;text-align:center;border-radius:4px;color:#fff;font-size:12px;padding:1px 4px}
.m-get{background:#2f7d32}.m-post{background:#1565c0}.m-delete{background:#c62828}.m-put,.m-patch{background:#6a1b9a}.m-head{background:#555}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
ul.toc{list-style:none;padding:0}summary{cursor:pointer}.auth{color:#555}
</style></head><body>
<h1>${escapeHtml(doc.info.title)} <small>${escapeHtml(doc.info.version)}</small></h1>
<p>${prose(doc.info.description)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
<h2>Authentication</h2><ul>${schemes}</ul>
<h2>Operations</h2><ul class="toc">${toc}</ul>
${ops.map(({ method, path, op }) => operationHtml(method, path, op)).join("\n")}
<h2>Schemas</h2>
${schemas}
</body></html>`;
}
