// The chat page's static files, read once at start from src/serve/page/ in the package (no build
// step). The compiled server runs from dist/src/serve/, so the folder is found from the package
// root: the nearest ancestor of this module that holds package.json.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StaticFile {
  type: string;
  body: Buffer;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the package root (package.json) above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

function pageDir(): string {
  return join(packageRoot(), 'src', 'serve', 'page');
}

/** URL path ("/app.js") -> file, for every file of the page folder. */
export function loadPage(dir = pageDir()): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) files.set(`/${name}`, { type, body: readFileSync(join(dir, name)) });
  }
  if (!files.has('/index.html')) throw new Error(`the chat page is missing: no index.html in ${dir}`);
  return files;
}
