// Every method carries a contract, and the contracts say what the documentation says: the seven
// by-reference methods never allow reuse at once, the copying ones do.
import test from 'ava';
import { METHODS, SAFEGUARDS } from './experiment.ts';
import { allowedBy, CONTRACTS, contractOf, sendsByReference } from './contracts.ts';

const BY_REFERENCE = ['sendfile', 'splice', 'vmsplice', 'vmsplice-gift', 'tee', 'msg-zerocopy', 'io-uring-zc'];

test('every method has a contract with a source and a quote', (t) => {
  t.deepEqual(Object.keys(CONTRACTS).sort(), [...METHODS].sort());
  for (const m of METHODS) {
    const c = CONTRACTS[m];
    t.true(c.source.length > 0 && c.quote.length > 0 && c.safePoint.length > 0, m);
    for (const s of c.safeAfter) t.true((SAFEGUARDS as readonly string[]).includes(s), `${m}: ${s} is a safeguard`);
  }
  t.is(contractOf('no-such-method'), undefined);
  t.is(contractOf('toString'), undefined, 'only own keys');
});

test('by reference: the seven zero-copy methods; reuse at once is never allowed there, always after a copying send', (t) => {
  t.deepEqual(METHODS.filter((m) => sendsByReference(CONTRACTS[m])), BY_REFERENCE);
  for (const m of BY_REFERENCE) {
    t.false(allowedBy(CONTRACTS[m as keyof typeof CONTRACTS], 'none'), `${m}: none`);
    t.true(allowedBy(CONTRACTS[m as keyof typeof CONTRACTS], 'copy'), `${m}: sending a copy replaces the method`);
  }
  t.true(allowedBy(CONTRACTS.write, 'none'));
  t.true(allowedBy(CONTRACTS['mmap-write'], 'none'));
  t.deepEqual(CONTRACTS['msg-zerocopy'].safeAfter, ['zc-completion']);
  t.deepEqual(CONTRACTS['io-uring-zc'].safeAfter, ['zc-completion']);
  t.deepEqual(CONTRACTS.sendfile.safeAfter, ['app-ack', 'lease']);
  t.deepEqual(CONTRACTS['vmsplice-gift'].safeAfter, [], 'a gift is never modified again');
  t.false(allowedBy(CONTRACTS.sendfile, 'siocoutq'), 'everything ACKed is not "the reader has consumed"');
});
