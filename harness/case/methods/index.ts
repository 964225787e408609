// The send-method registry: Experiment.method → a fresh SendMethod per case (or bench run), with the
// method's documented contract (harness/model/contracts.ts) as data beside it.
import { CONTRACTS, type SendContract } from '../../model/contracts.ts';
import type { Method } from '../../model/experiment.ts';
import { ioUringZcMethod } from './io-uring-zc.ts';
import { mmapWriteMethod } from './mmap-write.ts';
import { msgZerocopyMethod } from './msg-zerocopy.ts';
import { sendfileMethod } from './sendfile.ts';
import { spliceMethod } from './splice.ts';
import { teeMethod } from './tee.ts';
import type { SendMethod } from './types.ts';
import { vmspliceMethod } from './vmsplice.ts';
import { writeMethod } from './write.ts';

/** A send method and what its documentation says about reusing the source after it returns. */
export type ContractedMethod = SendMethod & { readonly contract: SendContract };

export function methodFor(method: Method): ContractedMethod {
  return { ...implementation(method), contract: CONTRACTS[method] };
}

function implementation(method: Method): SendMethod {
  switch (method) {
    case 'write':
      return writeMethod();
    case 'mmap-write':
      return mmapWriteMethod();
    case 'sendfile':
      return sendfileMethod();
    case 'splice':
      return spliceMethod();
    case 'vmsplice':
      return vmspliceMethod(false);
    case 'vmsplice-gift':
      return vmspliceMethod(true);
    case 'tee':
      return teeMethod();
    case 'msg-zerocopy':
      return msgZerocopyMethod();
    case 'io-uring-zc':
      return ioUringZcMethod();
  }
}
