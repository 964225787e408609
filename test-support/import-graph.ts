// The import graph of harness/ and the two rules it must keep: no folder imports a higher layer,
// and no file reaches itself through its imports. Used by test/self-checks/import-layers.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** Folders of harness/, lowest layer first; a product file may import its own layer or lower ones. */
export const LAYERS = [
  'native.ts', 'model', 'host', 'capture', 'world', 'case', 'roles', 'session',
  'verdict', 'evidence', 'report', 'suites', 'tools', 'cli', 'cli.ts',
] as const;

/** Edges between product files, as paths relative to the project root. */
export type ImportGraph = Map<string, string[]>;

export function isTestFile(path: string): boolean {
  return path.endsWith('.test.ts');
}

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Relative imports (static, dynamic, re-exports) of every .ts file under ROOT/harness. */
export function readGraph(root: string): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of listTs(join(root, 'harness'))) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = info.importedFiles.map((f) => f.fileName).filter((s) => s.startsWith('.') && s.endsWith('.ts'))
      .map((s) => relative(root, resolve(dirname(file), s)));
    graph.set(relative(root, file), targets);
  }
  return graph;
}

/** The layer index of a path under harness/, or null outside it. */
export function layerOf(path: string): number | null {
  const parts = path.split('/');
  if (parts[0] !== 'harness' || parts.length < 2) return null;
  const i = (LAYERS as readonly string[]).indexOf(parts[1]!);
  if (i < 0) throw new Error(`${path}: harness/${parts[1]} is in no layer (add it to LAYERS)`);
  return i;
}

/** Lower layers a folder must not import all the same: the verdict takes remote facts as plain data. */
export const FORBIDDEN: Readonly<Record<string, readonly string[]>> = { verdict: ['roles'] };

/** Every product import that points to a higher layer, out of the product (test code), or into a FORBIDDEN folder. */
export function upwardImports(graph: ImportGraph): string[] {
  const bad: string[] = [];
  for (const [from, targets] of graph) {
    if (isTestFile(from)) continue;
    const lf = layerOf(from)!;
    for (const to of targets) {
      const lt = layerOf(to);
      if (lt === null) bad.push(`${from} imports ${to}, which is not product code`);
      else if (lt > lf) bad.push(`${from} (${LAYERS[lf]}) imports ${to} (${LAYERS[lt]}), a higher layer`);
      else if (FORBIDDEN[LAYERS[lf]!]?.includes(LAYERS[lt]!)) bad.push(`${from} imports ${to}: ${LAYERS[lf]} never imports ${LAYERS[lt]}`);
    }
  }
  return bad;
}

/** Import cycles among product files (Tarjan's strongly connected components of size > 1 or a self-loop). */
export function importCycles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const product = (f: string) => graph.has(f) && !isTestFile(f);
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of (graph.get(v) ?? []).filter(product)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(scc.sort());
  };
  for (const v of graph.keys()) if (product(v) && !index.has(v)) visit(v);
  return cycles;
}
