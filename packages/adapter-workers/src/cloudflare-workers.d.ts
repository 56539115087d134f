/**
 * The one part of the Workers runtime module the adapter uses, declared here rather than depending
 * on `@cloudflare/workers-types`: the isolate's bindings, readable at module scope.
 */
declare module "cloudflare:workers" {
  export const env: { readonly [name: string]: unknown }
}
