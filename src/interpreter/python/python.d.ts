// The sandbox's Python programs are imported as their source text (esbuild's "text" loader in
// scripts/bundle.mjs, a small plugin in the vitest configs).
declare module "*.py" {
  const source: string
  export default source
}
