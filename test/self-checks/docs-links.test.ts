// Claim: the docs hold together: every relative link in README.md, docs/ and the folder READMEs
// resolves (file and #heading), README links every docs/ page, stays ≤ 200 lines, and every harness/ folder has a README.
import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** GitHub's heading anchor: lower case, punctuation dropped (not '-' or '_'), spaces to '-'. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

/** Markdown text without fenced code blocks (links there are examples, not links). */
function prose(md: string): string {
  return md.replace(/^```[\s\S]*?^```/gm, '');
}

function anchors(md: string): Set<string> {
  return new Set([...prose(md).matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1]!)));
}

/** Relative link targets of one Markdown file: [text](target), external and mail links left out. */
function links(md: string): string[] {
  return [...prose(md).matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/i.test(t));
}

/** "file: target (why)" for every link of `files` that does not resolve; paths relative to `root`. */
function brokenLinks(root: string, files: string[]): string[] {
  const broken: string[] = [];
  for (const file of files) {
    for (const target of links(readFileSync(file, 'utf8'))) {
      const [path, anchor] = target.split('#', 2) as [string, string | undefined];
      const dest = path ? resolve(dirname(file), decodeURIComponent(path)) : file;
      const where = `${relative(root, file)}: ${target}`;
      if (!existsSync(dest)) broken.push(`${where} (no such file)`);
      else if (anchor && dest.endsWith('.md') && !anchors(readFileSync(dest, 'utf8')).has(anchor)) {
        broken.push(`${where} (no such heading)`);
      }
    }
  }
  return broken;
}

/** docs/*.md pages that `readme` does not link to. */
function unlinkedPages(root: string, readme: string): string[] {
  const linked = new Set(links(readFileSync(readme, 'utf8')).map((t) => resolve(dirname(readme), t.split('#')[0]!)));
  return readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).filter((f) => !linked.has(join(root, 'docs', f)));
}

function dirsUnder(dir: string): string[] {
  return readdirSync(dir).map((e) => join(dir, e)).filter((p) => statSync(p).isDirectory()).flatMap((p) => [p, ...dirsUnder(p)]);
}

const folders = [join(ROOT, 'harness'), ...dirsUnder(join(ROOT, 'harness')), join(ROOT, 'test'), join(ROOT, 'test-support')];
const markdown = [
  join(ROOT, 'README.md'),
  ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(ROOT, 'docs', f)),
  ...folders.map((d) => join(d, 'README.md')).filter((f) => existsSync(f)),
];

test('every relative link in README.md, docs/ and the folder READMEs resolves', (t) => {
  t.deepEqual(brokenLinks(ROOT, markdown), []);
});

test('README.md links every docs/ page and is at most 200 lines', (t) => {
  t.deepEqual(unlinkedPages(ROOT, join(ROOT, 'README.md')), []);
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').length - 1;
  t.true(lines <= 200, `README.md has ${lines} lines`);
});

test('every folder under harness/, and test/ and test-support/, has a README.md', (t) => {
  t.deepEqual(folders.filter((d) => !existsSync(join(d, 'README.md'))).map((d) => relative(ROOT, d)), []);
});

test('the checks find a broken file link, a broken heading and an unlinked page', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'zcprobe-docs-'));
  try {
    mkdirSync(join(root, 'docs'));
    writeFileSync(join(root, 'docs', 'a.md'), '# Page A (v1.2)\n\n## Fine `code` here\n');
    writeFileSync(join(root, 'docs', 'b.md'), '# Page B\n');
    writeFileSync(join(root, 'README.md'), [
      '[ok](docs/a.md) [ok](docs/a.md#page-a-v12) [ok](docs/a.md#fine-code-here) [ok](#top) [web](https://example.org/x)',
      '# Top', '```', '[in a code block](docs/nowhere.md)', '```',
      '[gone](docs/c.md) [bad heading](docs/a.md#page-b)', '',
    ].join('\n'));
    t.deepEqual(brokenLinks(root, [join(root, 'README.md')]), [
      'README.md: docs/c.md (no such file)',
      'README.md: docs/a.md#page-b (no such heading)',
    ]);
    t.deepEqual(unlinkedPages(root, join(root, 'README.md')), ['b.md']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
