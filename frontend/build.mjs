// Bundles src/studio-editor.js (CodeMirror 6 and its language/lint/completion packages) into one
// self-contained script for the configuration studio, served from the app's own static folder:
// the intranet has no CDN, and the page's CSP allows scripts from 'self' only.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

// Two modules of codemirror-json-schema are swapped for our smaller ones (see src/shims/). The build
// fails if either is no longer imported under that name (a new version moved it), rather than
// silently shipping Shiki again.
const SHIMS = {
  "../utils/markdown": here("src/shims/schema-markdown.js"),
  "../parsers": here("src/shims/json-parser-only.js"),
};
const shimmed = new Set();
const jsonSchemaShims = {
  name: "codemirror-json-schema-shims",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/(utils\/markdown|parsers)$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]codemirror-json-schema[\\/]dist[\\/]/.test(args.importer)) return undefined;
      shimmed.add(args.path);
      return { path: SHIMS[args.path] };
    });
  },
};

await build({
  entryPoints: [here("src/studio-editor.js")],
  outfile: here("../server/admin/static/build/studio-editor.js"),
  bundle: true,
  format: "iife",
  target: ["es2020"],
  minify: true,
  legalComments: "eof",
  // The bundled packages are MIT-licensed (best-effort-json-parser: BSD-2-Clause); CodeMirror's sources
  // carry no licence comment for legalComments to keep, so the bundle says where the notices are.
  banner: { js: "/* studio-editor.js, built by frontend/build.mjs from the npm packages pinned in frontend/package-lock.json (MIT; best-effort-json-parser BSD-2-Clause); their licences: frontend/node_modules/<package>/LICENSE */" },
  plugins: [jsonSchemaShims],
  logLevel: "warning",
});

const missing = Object.keys(SHIMS).filter((path) => !shimmed.has(path));
if (missing.length) {
  console.error(`build.mjs: codemirror-json-schema no longer imports ${missing.join(", ")}; update SHIMS`);
  process.exit(1);
}
