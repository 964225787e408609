// Which of a transport's capture points a session starts: the sender's (W) by default, the
// receiving side's arrival capture instead with --sender-capture off, and an error where none exists.
import test from 'ava';
import { capturePlan } from './session.ts';
import type { CaptureSpec } from '../world/transport/types.ts';

const sender: CaptureSpec = { side: 'sender', iface: 'h0', sentinelHost: '10.0.0.2' };
const arrival: CaptureSpec = { side: 'receiver', arrival: true, iface: 'n0', netns: 'ns', sentinelHost: '10.0.0.2' };
const relayed: CaptureSpec = { side: 'receiver', iface: 'b0', netns: 'nsr', sentinelHost: '10.0.0.2' };

test('on: the sender capture (and a link\'s receiver side), never the arrival stand-in', (t) => {
  t.deepEqual(capturePlan({ kind: 'veth', captures: [sender, arrival] }, 'on'), [sender]);
  t.deepEqual(capturePlan({ kind: 'tun', captures: [sender, relayed] }, 'on'), [sender, relayed]);
});

test('off: the arrival capture alone; remote relies on the agent\'s; elsewhere an error that names the way out', (t) => {
  t.deepEqual(capturePlan({ kind: 'nic', captures: [sender, arrival] }, 'off'), [arrival]);
  t.deepEqual(capturePlan({ kind: 'remote', captures: [sender] }, 'off'), []);
  const noW = /loopback has no other capture that can serve as W.*--no-capture/;
  t.throws(() => capturePlan({ kind: 'loopback', captures: [sender] }, 'off'), { message: noW });
  t.throws(() => capturePlan({ kind: 'tun', captures: [sender, relayed] }, 'off'), { message: /tun has no other capture/ });
});
