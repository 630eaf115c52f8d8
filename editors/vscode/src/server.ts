// How the language server is started: `<crmmap.path> lsp`, over stdio. Kept apart from the
// `vscode` API so that a plain Node test can check it.

/** The command line of the language server, from the `crmmap.path` setting. */
export function serverCommand(configured: unknown): { command: string; args: string[] } {
  const path = typeof configured === "string" ? configured.trim() : "";
  return { command: path === "" ? "crmmap" : path, args: ["lsp"] };
}
