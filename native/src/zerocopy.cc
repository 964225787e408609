// MSG_ZEROCOPY completions: drain the socket's error queue (see kernel
// Documentation/networking/msg_zerocopy.rst). Sending itself is send() with MSG_ZEROCOPY.
#include "common.h"
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace zc {

// readZerocopyCompletions(fd) → [{lo, hi, copied}] read non-blocking until the queue is empty.
// A range [lo, hi] counts sends (one per successful MSG_ZEROCOPY send() call, from 0).
static Napi::Value ReadZerocopyCompletions(const Napi::CallbackInfo& info) {
  int64_t fd;
  if (!ArgInt(info, 0, &fd)) return info.Env().Undefined();
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (;;) {
    char control[128];
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t r = recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      return ThrowErrno(env, "recvmsg", errno);
    }
    for (struct cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
      bool v4 = cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR;
      bool v6 = cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR;
      if (!v4 && !v6) continue;
      auto* serr = reinterpret_cast<struct sock_extended_err*>(CMSG_DATA(cm));
      if (serr->ee_origin != SO_EE_ORIGIN_ZEROCOPY) {
        if (serr->ee_errno != 0) return ThrowErrno(env, "recvmsg(MSG_ERRQUEUE)", serr->ee_errno);
        continue;
      }
      Napi::Object c = Napi::Object::New(env);
      c.Set("lo", Num(env, serr->ee_info));
      c.Set("hi", Num(env, serr->ee_data));
      c.Set("copied", Napi::Boolean::New(env, (serr->ee_code & SO_EE_CODE_ZEROCOPY_COPIED) != 0));
      out.Set(n++, c);
    }
  }
  return out;
}

void InitZerocopy(Napi::Env env, Napi::Object exports) {
  exports.Set("readZerocopyCompletions", Napi::Function::New(env, ReadZerocopyCompletions));
}

}  // namespace zc
