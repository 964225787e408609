// Writes the three renderings of a report side by side. The report is validated first so a
// malformed one fails loudly here instead of producing a half-readable HTML page.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderHtml } from './html.ts';
import { renderMarkdown } from './markdown.ts';
import type { Report } from './types.ts';
import { assertValidReport } from './validate.ts';

export interface ReportPaths {
  json: string;
  html: string;
  md: string;
}

/** Write to a temporary name, then rename: a reader (or a crash) never sees a truncated file. */
function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

export function writeReport(dir: string, report: Report): ReportPaths {
  assertValidReport(report);
  // Render everything before touching the disk so a renderer bug leaves no partial set of files.
  const json = JSON.stringify(report, null, 2) + '\n';
  const html = renderHtml(report);
  const md = renderMarkdown(report);
  mkdirSync(dir, { recursive: true });
  const paths: ReportPaths = { json: join(dir, 'report.json'), html: join(dir, 'report.html'), md: join(dir, 'report.md') };
  writeAtomic(paths.json, json);
  writeAtomic(paths.html, html);
  writeAtomic(paths.md, md);
  return paths;
}
