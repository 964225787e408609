// A JSON Schema (2020-12) validator for exactly the keywords schema/report.schema.json uses; any other keyword is a SchemaError,
// so the schema can never look stricter than what is checked (ajv cross-checks it in test/self-checks/report-schema.test.ts).
import { readFileSync } from 'node:fs';

export type Schema = { [keyword: string]: unknown };

export interface ValidationError {
  /** JSON Pointer to the offending value, e.g. /cells/3/verdict ("" is the document itself) */
  path: string;
  message: string;
}

export class SchemaError extends Error {
  override name = 'SchemaError';
}

const CHECKED = new Set(['type', 'required', 'properties', 'additionalProperties', 'items', 'enum', 'minimum', '$ref']);
/** Annotations: they document, they never constrain. */
const ANNOTATIONS = new Set(['$schema', '$id', '$defs', '$comment', 'title', 'description']);
const TYPES = new Set(['object', 'array', 'string', 'number', 'integer', 'boolean', 'null']);

function typeOk(type: string, v: unknown): boolean {
  switch (type) {
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    // NaN and ±Infinity are not JSON (they serialize as null), so they are not numbers here.
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'null':
      return v === null;
    default:
      throw new SchemaError(`unknown type "${type}"`);
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (typeof v === 'number' && Number.isInteger(v)) return 'integer';
  return typeof v;
}

/** RFC 6901: "~" and "/" inside a key are escaped so the pointer stays unambiguous. */
const pointer = (path: string, key: string | number) => `${path}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;

function isSchema(s: unknown): s is Schema {
  return typeof s === 'object' && s !== null && !Array.isArray(s);
}

/** Every error of `value` against `schema`, in document order; empty when valid. */
export function validate(schema: Schema, value: unknown): ValidationError[] {
  const errors: ValidationError[] = [];
  const resolve = (ref: unknown): Schema => {
    const m = typeof ref === 'string' ? /^#\/\$defs\/([^/]+)$/.exec(ref) : null;
    const defs = schema.$defs;
    const target = m && isSchema(defs) ? defs[m[1]!] : undefined;
    if (!isSchema(target)) throw new SchemaError(`unsupported or dangling $ref ${JSON.stringify(ref)} (only #/$defs/<name>)`);
    return target;
  };

  const walk = (s: Schema, v: unknown, path: string): void => {
    for (const k of Object.keys(s)) if (!CHECKED.has(k) && !ANNOTATIONS.has(k)) throw new SchemaError(`keyword "${k}" at schema for ${path || '/'} is not supported by this validator`);
    const fail = (message: string, at = path) => errors.push({ path: at, message });

    if (s.$ref !== undefined) walk(resolve(s.$ref), v, path);

    if (s.type !== undefined) {
      const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
      for (const t of types) if (!TYPES.has(t)) throw new SchemaError(`unknown type "${t}"`);
      // Later keywords assume the type holds; checking them on a wrong type would only add noise.
      if (!types.some((t) => typeOk(t, v))) return void fail(`must be ${types.join(' or ')}, got ${describe(v)}`);
    }

    if (s.enum !== undefined) {
      if (!Array.isArray(s.enum)) throw new SchemaError('enum must be an array');
      const json = JSON.stringify(v);
      if (!s.enum.some((e) => e === v || JSON.stringify(e) === json)) fail(`must be one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${json ?? String(v)}`);
    }

    if (s.minimum !== undefined && typeof v === 'number' && typeof s.minimum === 'number' && v < s.minimum) fail(`must be ≥ ${s.minimum}, got ${v}`);

    if (typeOk('object', v)) {
      const obj = v as Record<string, unknown>;
      const props = isSchema(s.properties) ? s.properties : {};
      for (const r of (s.required as string[] | undefined) ?? []) if (!(r in obj)) fail(`missing required property "${r}"`, pointer(path, r));
      for (const [k, child] of Object.entries(obj)) {
        const p = props[k];
        if (isSchema(p)) walk(p, child, pointer(path, k));
        else if (s.additionalProperties === false) fail(`unexpected property "${k}"`, pointer(path, k));
        else if (isSchema(s.additionalProperties)) walk(s.additionalProperties, child, pointer(path, k));
      }
    }

    if (Array.isArray(v) && isSchema(s.items)) v.forEach((item, i) => walk(s.items as Schema, item, pointer(path, i)));
  };

  walk(schema, value, '');
  return errors;
}

let reportSchema: Schema | undefined;

/** schema/report.schema.json, read once (relative to this file, not the working directory). */
export function loadReportSchema(): Schema {
  reportSchema ??= JSON.parse(readFileSync(new URL('../../schema/report.schema.json', import.meta.url), 'utf8')) as Schema;
  return reportSchema;
}

export function validateReport(report: unknown): ValidationError[] {
  return validate(loadReportSchema(), report);
}

/** Throws with every error as "path: message" (at most 20) so a bad report never gets written. */
export function assertValidReport(report: unknown): void {
  const errors = validateReport(report);
  if (!errors.length) return;
  const lines = errors.slice(0, 20).map((e) => `  ${e.path || '/'}: ${e.message}`);
  if (errors.length > 20) lines.push(`  … and ${errors.length - 20} more`);
  throw new Error(`report does not match schema/report.schema.json:\n${lines.join('\n')}`);
}
