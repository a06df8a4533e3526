// `node --import` this before importing the edge Worker in Node (scripts/generate.ts): the Worker's
// entry module re-exports its Durable Object class, which extends `DurableObject` from the
// workerd-only module `cloudflare:workers`. Building the OpenAPI document constructs no Durable
// Object, so a bare base class is all Node needs; every other module the Worker imports runs as is.
import { register } from "node:module";

const stub = "export class DurableObject { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }";
const hooks = `
export async function resolve(specifier, context, next) {
  if (specifier !== "cloudflare:workers") return next(specifier, context);
  return { url: ${JSON.stringify(`data:text/javascript,${encodeURIComponent(stub)}`)}, shortCircuit: true };
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
