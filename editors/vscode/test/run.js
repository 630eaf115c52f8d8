#!/usr/bin/env node
// The grammar's tests.
//
// 1. Snapshots: every `.crmmap` file under dsl/tests/fixtures and mappings/ is tokenized and
//    compared with its snapshot in test/snapshots/ (same path as the file, plus `.snap`).
//    vscode-tmgrammar-snap keeps a snapshot beside its file, so the files and their snapshots
//    are staged in a temporary directory. A file without a snapshot, or a snapshot without a
//    file, fails the run. `--update` rewrites the snapshots (review the diff before committing).
// 2. Coverage: no word or symbol of a fixture is left with no scope but `source.crmmap`; outside
//    strings and comments, keywords, numbers, strings and comments get their scopes; no file in
//    `VALID` gets an `invalid.*` scope.
// 3. Assertions: the hand-written cases in test/cases/ (vscode-tmgrammar-test).
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { spawnSync } = require("child_process");

const extension = path.resolve(__dirname, "..");
const root = path.resolve(extension, "..", "..");
const snapshots = path.join(__dirname, "snapshots");
const fixtureDirs = ["dsl/tests/fixtures", "mappings"];
// Files that parse: the shipped mappings and the formatter's fixtures (minus the fuzzer's find,
// which is deliberately broken text).
const VALID = (file) =>
  file.startsWith("mappings/") ||
  (file.startsWith("dsl/tests/fixtures/fmt/") && !path.basename(file).startsWith("fuzz_"));
const update = process.argv.includes("--update");
const tool = (name) => require.resolve(`vscode-tmgrammar-test/dist/${name}.js`);

/** Relative paths (with `/`) of the files under `dir` whose name ends with `suffix`. */
function filesUnder(dir, suffix) {
  const out = [];
  const walk = (abs) => {
    if (!fs.existsSync(abs)) return;
    for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
      const child = path.join(abs, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.name.endsWith(suffix)) out.push(child);
    }
  };
  walk(dir);
  return out.map((f) => path.relative(dir, f).split(path.sep).join("/")).sort();
}

/** Runs one of vscode-tmgrammar-test's commands; false when it fails or hangs. */
function run(script, args) {
  const result = spawnSync(process.execPath, [tool(script), "--config", path.join(extension, "package.json"), ...args], {
    stdio: "inherit",
    cwd: extension,
    // 0.1.3 loops forever on an assertion with two excluded scopes (`- a - b`).
    timeout: 120_000,
  });
  if (result.error !== undefined) console.error(`${script}: ${result.error.message}`);
  return result.status === 0;
}

/** The words of the grammar's `keywords` patterns (`\b(?:a|b)\b`; a dsl test ties them to the pest grammar). */
const grammar = JSON.parse(fs.readFileSync(path.join(extension, "syntaxes", "crmmap.tmLanguage.json"), "utf8"));
const keywords = new Set(
  grammar.repository.keywords.patterns.flatMap((p) => /\(\?:([a-z|]+)\)/.exec(p.match)[1].split("|")),
);
// A keyword's roles: a keyword, or in context a side (`prefer salesforce`), the item's name in an
// expression, or the `translate` transform.
const KEYWORD_ROLE = /^(keyword|storage|constant\.language|variable\.language\.name|support\.function)\./;

/** What a token's scopes must say, from its text; null when the text alone says nothing. */
function expectedRole(text, scopes) {
  const inner = scopes.slice(1);
  if (inner.some((s) => s.startsWith("string.") || s.startsWith("comment."))) return null;
  if (keywords.has(text) && !inner.some((s) => KEYWORD_ROLE.test(s))) return "a keyword scope";
  if (/^[0-9]+(\.[0-9]+)?$/.test(text) && !inner.some((s) => s.startsWith("constant.numeric."))) {
    return "constant.numeric";
  }
  if (text.startsWith('"')) return "string.quoted.double";
  if (text.startsWith("//")) return "comment.line.double-slash";
  return null;
}

/** The problems a snapshot shows: unscoped text, and `invalid` scopes where none may be. */
function coverageProblems(file, snap) {
  const problems = [];
  let src = null;
  let lineNo = 0;
  for (const line of snap.split("\n")) {
    if (line.startsWith(">")) {
      src = line.slice(1);
      lineNo += 1;
      continue;
    }
    const m = /^#( *)(\^+) (.*)$/.exec(line);
    if (m === null || src === null) continue;
    const start = m[1].length;
    const text = src.slice(start, start + m[2].length);
    const scopes = m[3].split(" ");
    if (scopes.length === 1 && text.trim() !== "") {
      problems.push(`${file}:${lineNo}:${start + 1}: \`${text}\` has no scope`);
    }
    const role = expectedRole(text.trim(), scopes);
    if (role !== null) problems.push(`${file}:${lineNo}:${start + 1}: \`${text}\` is scoped ${m[3]}, not ${role}`);
    if (VALID(file) && scopes.some((s) => s.startsWith("invalid."))) {
      problems.push(`${file}:${lineNo}:${start + 1}: \`${text}\` is scoped ${m[3]}`);
    }
  }
  return problems;
}

function main() {
  const failures = [];
  const fixtures = fixtureDirs.flatMap((dir) =>
    filesUnder(path.join(root, dir), ".crmmap").map((f) => `${dir}/${f}`),
  );
  if (fixtures.length === 0) failures.push("no .crmmap fixtures found");
  const snaps = filesUnder(snapshots, ".crmmap.snap").map((f) => f.slice(0, -".snap".length));
  if (!update) {
    for (const f of fixtures.filter((f) => !snaps.includes(f))) {
      failures.push(`${f}: no snapshot (run \`npm run test:update\` and review it)`);
    }
    for (const s of snaps.filter((s) => !fixtures.includes(s))) {
      failures.push(`test/snapshots/${s}.snap: its file is gone (run \`npm run test:update\`)`);
    }
  }

  const stage = fs.mkdtempSync(path.join(os.tmpdir(), "crmmap-grammar-"));
  try {
    for (const f of fixtures) {
      const target = path.join(stage, f);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.copyFileSync(path.join(root, f), target);
      const snap = path.join(snapshots, `${f}.snap`);
      if (fs.existsSync(snap)) fs.copyFileSync(snap, `${target}.snap`);
    }
    console.log(`snapshots: ${fixtures.length} files`);
    const args = update ? ["--updateSnapshot"] : [];
    if (!run("snapshot", [...args, path.join(stage, "**", "*.crmmap")])) {
      failures.push("snapshots differ (see above)");
    }
    if (update) {
      fs.rmSync(snapshots, { recursive: true, force: true });
      for (const f of fixtures) {
        const target = path.join(snapshots, `${f}.snap`);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.copyFileSync(path.join(stage, `${f}.snap`), target);
      }
    }
    for (const f of fixtures) {
      const snap = path.join(stage, `${f}.snap`);
      if (fs.existsSync(snap)) failures.push(...coverageProblems(f, fs.readFileSync(snap, "utf8")));
    }
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }

  console.log("assertions: test/cases");
  if (!run("unit", [path.join(__dirname, "cases", "*.crmmap")])) {
    failures.push("grammar assertions failed (see above)");
  }

  if (failures.length > 0) {
    console.error(`\n${failures.length} problem(s):\n  ${failures.join("\n  ")}`);
    process.exit(1);
  }
  console.log("grammar tests passed");
}

main();
