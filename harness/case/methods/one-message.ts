// A SendMethod from its prepare and open: send() is one message on a freshly opened sender,
// which release() closes. One object per case (methodFor makes a new one each time).
import type { Experiment } from '../../model/experiment.ts';
import type { Source } from '../../model/patterns.ts';
import type { MessageSender, SendMethod } from './types.ts';

export function sendMethod(prepare: SendMethod['prepare'], open: SendMethod['open']): SendMethod {
  let sender: MessageSender | null = null;
  const release = (): void => {
    const s = sender;
    sender = null;
    s?.close();
  };
  return {
    prepare,
    open,
    send(fd: number, source: Source, exp: Experiment) {
      release(); // never leak an earlier sender's pipes or ring
      sender = open(fd, source, exp);
      return sender.send();
    },
    release,
  };
}
