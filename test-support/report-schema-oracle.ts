// ajv (draft 2020-12) as the oracle for schema/report.schema.json: an independent, maintained
// validator next to the small in-tree one (harness/report/validate.ts), which the harness keeps
// for its one-line path + message errors. Strict mode: a keyword ajv does not know fails the
// compile, so the schema is checked as well as the documents.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { loadReportSchema } from '../harness/report/validate.ts';

const ajv = new Ajv2020({ strict: true, allErrors: true });
const check = ajv.compile(loadReportSchema());

/** ajv's verdict on a report: [] when valid, else its errors as "instancePath message". */
export function ajvReportErrors(report: unknown): string[] {
  if (check(report)) return [];
  return (check.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`);
}
