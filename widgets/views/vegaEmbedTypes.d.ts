// vega-embed publishes its types only through package.json "exports", which the project's
// node10 module resolution does not read; point the bare specifier at them.
declare module "vega-embed" {
  export * from "vega-embed/build/embed";
  export { default } from "vega-embed/build/embed";
}
