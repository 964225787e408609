// A session leaves nothing behind: no child process, no open fd, no file in its work directory,
// after running one case of every method (and after a case that fails).
import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METHODS, makeExperiment } from './experiment.ts';
import { Session } from './session.ts';
import { listNetns } from './transport/netns.ts';
import { testWithNeeds } from '../properties/helpers/requirements.ts';

function openFds(): string[] {
  return readdirSync('/proc/self/fd').sort();
}

function childPids(): string[] {
  const out: string[] = [];
  for (const task of readdirSync('/proc/self/task')) {
    const f = `/proc/self/task/${task}/children`;
    if (existsSync(f)) out.push(...readFileSync(f, 'utf8').trim().split(/\s+/).filter(Boolean));
  }
  return out;
}

test.serial('a session run of every method (with capture) leaves no process, fd or file behind', async (t) => {
  const fdsBefore = openFds();
  const childrenBefore = childPids();
  const session = await Session.open({ transport: 'loopback', family: 4, runDir: mkdtempSync(join(tmpdir(), 'zcprobe-leftovers-')) });
  t.teardown(() => rmSync(session.runDir, { recursive: true, force: true }));
  const workDir = session.workDir;
  t.true(childPids().length > childrenBefore.length, 'the receiver runs as a child process');
  for (const method of METHODS) {
    await session.run(makeExperiment({ method, size: 200_000, receiverDelayMs: 5 }));
  }
  // A case that fails after connecting and sending (the mutation step throws: an experiment that
  // bypassed validation) must still release its socket, source and receiver case.
  await t.throwsAsync(session.run({ ...makeExperiment({ method: 'write', size: 1000 }), mutation: 'pwrite' }), {
    message: /needs a file source/,
  });
  await session.run(makeExperiment({ method: 'write', size: 1000 })); // the receiver is still in step
  // Only the session's own capture file may remain until close.
  t.deepEqual(readdirSync(workDir).filter((f) => f !== 'capture.pcap'), [], 'no source or received file remains in the work directory');
  await session.close();
  t.false(existsSync(workDir), 'work directory removed');
  t.deepEqual(childPids(), childrenBefore, 'no child process (receiver, tcpdump) remains');
  t.deepEqual(openFds(), fdsBefore, 'no fd remains open');
});

// Declared after the serial test above: ava runs it once that one has finished.
await testWithNeeds(test, 'a tun session (two namespaces, two captures, the relay) leaves no process, fd, namespace or file behind', ['root', 'tcpdump', 'tun'], async (t) => {
  const fdsBefore = openFds();
  const childrenBefore = childPids();
  const nsBefore = (await listNetns()).sort();
  const session = await Session.open({ transport: 'tun', family: 4, runDir: mkdtempSync(join(tmpdir(), 'zcprobe-leftovers-')) });
  t.teardown(() => rmSync(session.runDir, { recursive: true, force: true }));
  t.is(session.captures.length, 2, 'one capture on each side of the link');
  t.is((await listNetns()).length, nsBefore.length + 2, 'a sender and a receiver namespace');
  for (const method of ['write', 'vmsplice', 'sendfile'] as const) {
    await session.run(makeExperiment({ method, size: 200_000, receiverDelayMs: 5, transport: 'tun', link: { loss: '#2' } }));
  }
  await session.close();
  t.deepEqual((await listNetns()).sort(), nsBefore, 'both namespaces removed');
  t.deepEqual(childPids(), childrenBefore, 'no child process (receiver, tcpdumps, relay) remains');
  t.deepEqual(openFds(), fdsBefore, 'no fd remains open (incl. the sentinel socket in the sender namespace)');
});
