// The crmmap extension: highlighting comes from the TextMate grammar declared in package.json;
// everything else (diagnostics, hover, completion, go to definition, formatting, rename) comes
// from the language server, `crmmap lsp`, started here over stdio.

import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from "vscode-languageclient/node";

import { serverCommand } from "./server";

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand("crmmap.restartServer", () => restart()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("crmmap.path")) {
        void restart();
      }
    }),
    { dispose: () => void stop() },
  );
  await start();
}

export function deactivate(): Thenable<void> | undefined {
  return stop();
}

async function start(): Promise<void> {
  const { command, args } = serverCommand(vscode.workspace.getConfiguration("crmmap").get("path"));
  const serverOptions: ServerOptions = { command, args, transport: TransportKind.stdio };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "crmmap" },
      { scheme: "untitled", language: "crmmap" },
    ],
    synchronize: {
      // Changes to `crmmap.toml` (which may name a schema snapshot) and to mappings on disk.
      fileEvents: vscode.workspace.createFileSystemWatcher("**/{crmmap.toml,*.crmmap}"),
    },
  };
  const next = new LanguageClient("crmmap", "crmmap language server", serverOptions, clientOptions);
  try {
    await next.start();
    client = next;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(
      `crmmap: could not start \`${command} lsp\` (${reason}). ` +
        "Install crmmap or set `crmmap.path` to its executable.",
    );
  }
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running !== undefined) {
    await running.stop();
  }
}

async function restart(): Promise<void> {
  await stop();
  await start();
}
