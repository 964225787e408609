// Changing a file on ext4 while an already-returned sendfile/splice still delivers it: one
// fast-check search per mutation (harness/model/claims/fs.ts), universal checks asserted, outcomes
// printed (properties/helpers/t-fs-claims.ts).
import { declareFsClaims } from './helpers/t-fs-claims.ts';

await declareFsClaims('ext4', ['root', 'tcpdump', 'fsExt4']);
