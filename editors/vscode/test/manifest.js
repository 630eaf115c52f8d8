#!/usr/bin/env node
// The extension's manifest holds together (every path it names exists, the language, grammar
// and setting agree), and the server is started as `<crmmap.path> lsp`.
"use strict";

const assert = require("assert/strict");
const fs = require("fs");
const os = require("os");
const path = require("path");
const ts = require("typescript");

const extension = path.resolve(__dirname, "..");
const read = (file) => JSON.parse(fs.readFileSync(path.join(extension, file), "utf8"));
const pkg = read("package.json");

const [language] = pkg.contributes.languages;
assert.equal(language.id, "crmmap");
assert.deepEqual(language.extensions, [".crmmap"]);
const configuration = read(language.configuration);
assert.equal(configuration.comments.lineComment, "//");
assert.deepEqual(configuration.brackets, [["{", "}"], ["(", ")"]]);

const [grammar] = pkg.contributes.grammars;
assert.equal(grammar.language, language.id);
const tmLanguage = read(grammar.path);
assert.equal(tmLanguage.scopeName, grammar.scopeName);
for (const { include } of tmLanguage.patterns) {
  assert.ok(tmLanguage.repository[include.slice(1)], `${grammar.path}: ${include} is not defined`);
}

// `main` is what tsc writes for src/extension.ts.
const tsconfig = read("tsconfig.json").compilerOptions;
const main = path.normalize(pkg.main);
const expected = path.join(tsconfig.outDir, "extension.js");
assert.equal(main, expected, `main is ${main}, tsc writes ${expected}`);
assert.ok(fs.existsSync(path.join(extension, tsconfig.rootDir, "extension.ts")));

const setting = pkg.contributes.configuration.properties["crmmap.path"];
assert.equal(setting.default, "crmmap");
assert.equal(setting.type, "string");

// src/server.ts, transpiled on the fly: the command line from the setting.
const source = fs.readFileSync(path.join(extension, "src", "server.ts"), "utf8");
const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS } }).outputText;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "crmmap-ext-"));
try {
  fs.writeFileSync(path.join(dir, "server.js"), js);
  const { serverCommand } = require(path.join(dir, "server.js"));
  assert.deepEqual(serverCommand(undefined), { command: "crmmap", args: ["lsp"] });
  assert.deepEqual(serverCommand(""), { command: "crmmap", args: ["lsp"] });
  assert.deepEqual(serverCommand("   "), { command: "crmmap", args: ["lsp"] });
  assert.deepEqual(serverCommand(" /opt/crmmap/bin/crmmap "), { command: "/opt/crmmap/bin/crmmap", args: ["lsp"] });
  assert.deepEqual(serverCommand(42), { command: "crmmap", args: ["lsp"] });
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log("manifest and server command: ok");
