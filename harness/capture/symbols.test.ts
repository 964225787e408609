// Where a finding happened: the innermost frame with a line in the program's own code, so a write inside
// memcpy is blamed on the line that called memcpy; without debug info, object+offset.
import test from 'ava';
import { siteOf, type Frame } from './symbols.ts';

const f = (object: string, line: string | null, fn = 'f'): Frame => ({ addr: '0x1', object, offset: '0x10', function: fn, line });

test('a libc frame is skipped for the caller with a line; no line anywhere gives object+offset', (t) => {
  t.is(siteOf([f('/usr/lib/x86_64-linux-gnu/libc.so.6', null, 'memcpy'), f('/srv/app', '/src/app.c:19', 'main')]), '/src/app.c:19');
  const libc = f('/lib/x86_64-linux-gnu/libc.so.6', './string/memcpy.c:3');
  t.is(siteOf([libc, f('/srv/app', '/src/app.c:7')]), '/src/app.c:7', 'system libraries are skipped even with lines');
  t.is(siteOf([libc]), './string/memcpy.c:3', 'only system frames: the first with a line');
  t.is(siteOf([f('/srv/stripped', null)]), '/srv/stripped+0x10');
  t.is(siteOf([]), null);
});
