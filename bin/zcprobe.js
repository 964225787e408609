#!/usr/bin/env node
// zcprobe CLI entry: registers tsx so the TypeScript harness runs as is, then hands over.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../harness/cli.ts');
process.exitCode = await main(process.argv.slice(2));
