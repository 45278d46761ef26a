// Render TeX with KaTeX for the site build (tools/sphinx_course.py starts one per build).
// Reads one JSON request a line on stdin: {"tex": "...", "display": true|false}
// and answers one JSON line on stdout: {"html": "..."} or {"error": "..."}.
// Usage: node tools/katex_render.js PATH/TO/katex.min.js
"use strict";
const katex = require(require("path").resolve(process.argv[2]));
const readline = require("readline");

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on("line", (line) => {
  let answer;
  try {
    const { tex, display } = JSON.parse(line);
    answer = {
      html: katex.renderToString(tex, {
        displayMode: display, throwOnError: true, output: "htmlAndMathml", strict: "ignore",
      }),
    };
  } catch (err) {
    answer = { error: String(err.message || err) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
});
