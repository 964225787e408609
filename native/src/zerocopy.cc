// MSG_ZEROCOPY completions: drain the socket's error queue (see kernel
// Documentation/networking/msg_zerocopy.rst). Sending itself is send() with MSG_ZEROCOPY.
#include "common.h"
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace zc {

// readZerocopyCompletions(fd) → {completions: [{lo, hi, copied}], error: Error | null}, read
// non-blocking until the queue is empty. A range [lo, hi] counts sends (one per successful
// MSG_ZEROCOPY send() call, from 0). A failure part-way (recvmsg fails, or the queue holds a
// non-zerocopy error) does not drop the completions already taken off the queue: they are
// returned with the error, which the caller raises after counting them.
static Napi::Value ReadZerocopyCompletions(const Napi::CallbackInfo& info) {
  int64_t fd;
  if (!ArgInt(info, 0, &fd)) return info.Env().Undefined();
  Napi::Env env = info.Env();
  Napi::Array completions = Napi::Array::New(env);
  Napi::Value error = env.Null();
  uint32_t n = 0;
  while (error.IsNull()) {
    char control[128];
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t r = recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      error = ErrnoError(env, "recvmsg", errno, n ? " after " + std::to_string(n) + " completion(s)" : "").Value();
      break;
    }
    for (struct cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
      bool v4 = cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR;
      bool v6 = cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR;
      if (!v4 && !v6) continue;
      auto* serr = reinterpret_cast<struct sock_extended_err*>(CMSG_DATA(cm));
      if (serr->ee_origin != SO_EE_ORIGIN_ZEROCOPY) {
        // The rest of the queue stays for the next call; what was taken is returned below.
        if (serr->ee_errno != 0 && error.IsNull())
          error = ErrnoError(env, "recvmsg(MSG_ERRQUEUE)", serr->ee_errno, " (origin " + std::to_string(serr->ee_origin) + ")").Value();
        continue;
      }
      Napi::Object c = Napi::Object::New(env);
      c.Set("lo", Num(env, serr->ee_info));
      c.Set("hi", Num(env, serr->ee_data));
      c.Set("copied", Napi::Boolean::New(env, (serr->ee_code & SO_EE_CODE_ZEROCOPY_COPIED) != 0));
      completions.Set(n++, c);
    }
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("completions", completions);
  out.Set("error", error);
  return out;
}

void InitZerocopy(Napi::Env env, Napi::Object exports) {
  exports.Set("readZerocopyCompletions", Napi::Function::New(env, ReadZerocopyCompletions));
}

}  // namespace zc
