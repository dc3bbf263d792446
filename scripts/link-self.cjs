// Makes `import ... from "mechlab"` resolve inside this checkout (notebooks, examples, benches)
// by linking node_modules/mechlab to the package root. Classic (node10) module resolution,
// which the notebook kernel's TypeScript uses, does not know package self-reference.
const fs = require("fs");
const path = require("path");
const root = path.resolve(__dirname, "..");
const link = path.join(root, "node_modules", "mechlab");
fs.mkdirSync(path.dirname(link), { recursive: true });
try {
  const stat = fs.lstatSync(link);
  if (stat.isSymbolicLink() && path.resolve(path.dirname(link), fs.readlinkSync(link)) === root) process.exit(0);
  fs.rmSync(link, { recursive: true, force: true });
} catch {
  /* no link yet */
}
fs.symlinkSync("..", link, "dir");
