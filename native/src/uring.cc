// io_uring IORING_OP_SEND_ZC via liburing. Built only when liburing's headers were found at
// build time (binding.gyp defines ZCPROBE_HAVE_LIBURING); otherwise every call throws ENOSYS and
// uringCompiled is false, so the io-uring-zc method can skip with a reason.
#include "common.h"

#ifdef ZCPROBE_HAVE_LIBURING
#include <liburing.h>
#include <deque>
#include <string>
#include <time.h>
#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)  // kernel 6.2+, newer than Debian 12's liburing 2.3
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

namespace zc {

struct Ring {
  struct io_uring ring;
  bool open = false;
  uint64_t nextId = 1;
  std::deque<std::pair<uint64_t, int32_t>> notifs;  // F_NOTIF CQEs seen while waiting for results
};

static void FreeRing(Napi::Env, Ring* r) {
  if (r->open) io_uring_queue_exit(&r->ring);
  delete r;
}

static Ring* GetRing(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsExternal()) {
    ThrowType(info.Env(), "argument 0 must be a ring from uringCreate()");
    return nullptr;
  }
  Ring* r = info[0].As<Napi::External<Ring>>().Data();
  if (!r->open) {
    ThrowErrno(info.Env(), "io_uring", EBADF);
    return nullptr;
  }
  return r;
}

// uringCreate(entries) → ring handle
static Napi::Value UringCreate(const Napi::CallbackInfo& info) {
  int64_t entries;
  if (!ArgInt(info, 0, &entries)) return info.Env().Undefined();
  Ring* r = new Ring();
  int err = io_uring_queue_init(entries, &r->ring, 0);
  if (err < 0) {
    delete r;
    return ThrowErrno(info.Env(), "io_uring_queue_init", -err);
  }
  r->open = true;
  return Napi::External<Ring>::New(info.Env(), r, FreeRing);
}

static Napi::Value UringClose(const Napi::CallbackInfo& info) {
  Ring* r = GetRing(info);
  if (!r) return info.Env().Undefined();
  io_uring_queue_exit(&r->ring);
  r->open = false;
  return info.Env().Undefined();
}

// uringProbeSendZc() → true when the running kernel supports IORING_OP_SEND_ZC.
static Napi::Value UringProbeSendZc(const Napi::CallbackInfo& info) {
  struct io_uring_probe* p = io_uring_get_probe();
  if (!p) return ThrowErrno(info.Env(), "io_uring_get_probe", errno ? errno : ENOSYS);
  bool ok = io_uring_opcode_supported(p, IORING_OP_SEND_ZC);
  io_uring_free_probe(p);
  return Napi::Boolean::New(info.Env(), ok);
}

static int64_t NowMs() {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<int64_t>(t.tv_sec) * 1000 + t.tv_nsec / 1000000;
}

// uringSendZc(ring, fd, buf, off, len, msgFlags, zcFlags = REPORT_USAGE, timeoutMs = 30000)
// → {res, more, id}: submits one SEND_ZC and waits, at most timeoutMs, for its result CQE.
// res < 0 is -errno, returned as is: the caller decides (e.g. -EINVAL from a kernel that does not
// know a zcFlags bit). No result in time throws ETIME; the op stays queued on the ring, which the
// caller then closes. The buffer must stay untouched until the F_NOTIF CQE (uringWaitNotif).
static Napi::Value UringSendZc(const Napi::CallbackInfo& info) {
  Ring* r = GetRing(info);
  int64_t fd, flags, zcFlags = IORING_SEND_ZC_REPORT_USAGE, timeoutMs = 30000;
  uint8_t* p;
  size_t n;
  if (!r || !ArgInt(info, 1, &fd) || !ArgBytes(info, 2, &p, &n) || !ArgInt(info, 5, &flags))
    return info.Env().Undefined();
  if (info.Length() > 6 && !info[6].IsUndefined() && !ArgInt(info, 6, &zcFlags)) return info.Env().Undefined();
  if (info.Length() > 7 && !info[7].IsUndefined() && !ArgInt(info, 7, &timeoutMs)) return info.Env().Undefined();
  if (timeoutMs < 0) return ThrowType(info.Env(), "timeoutMs must be >= 0");
  struct io_uring_sqe* sqe = io_uring_get_sqe(&r->ring);
  if (!sqe) return ThrowErrno(info.Env(), "io_uring_get_sqe", EBUSY);
  uint64_t id = r->nextId++;
  io_uring_prep_send_zc(sqe, fd, p, n, flags, static_cast<unsigned>(zcFlags));
  sqe->user_data = id;
  int err = io_uring_submit(&r->ring);
  if (err < 0) return ThrowErrno(info.Env(), "io_uring_submit", -err);
  const int64_t deadline = NowMs() + timeoutMs;
  for (;;) {
    struct io_uring_cqe* cqe;
    int64_t left = deadline - NowMs();
    if (left < 0) left = 0;
    struct __kernel_timespec ts = {left / 1000, (left % 1000) * 1000000};
    err = io_uring_wait_cqe_timeout(&r->ring, &cqe, &ts);
    if (err == -EINTR) continue;
    if (err == -ETIME)
      return ThrowErrno(info.Env(), "io_uring_wait_cqe_timeout", ETIME,
                        ": no SEND_ZC result within " + std::to_string(timeoutMs) + " ms (the send is still queued)");
    if (err < 0) return ThrowErrno(info.Env(), "io_uring_wait_cqe_timeout", -err);
    uint64_t ud = cqe->user_data;
    int32_t res = cqe->res;
    uint32_t cflags = cqe->flags;
    io_uring_cqe_seen(&r->ring, cqe);
    if (cflags & IORING_CQE_F_NOTIF) {
      r->notifs.emplace_back(ud, res);
      continue;
    }
    if (ud != id) continue;  // a stale result of an earlier send: not ours
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("res", Num(info.Env(), res));
    o.Set("more", Napi::Boolean::New(info.Env(), (cflags & IORING_CQE_F_MORE) != 0));
    o.Set("id", Num(info.Env(), static_cast<double>(id)));
    return o;
  }
}

// uringWaitNotif(ring, timeoutMs) → {id, copied, res} or null on timeout.
static Napi::Value UringWaitNotif(const Napi::CallbackInfo& info) {
  Ring* r = GetRing(info);
  int64_t timeoutMs;
  if (!r || !ArgInt(info, 1, &timeoutMs)) return info.Env().Undefined();
  Napi::Env env = info.Env();
  auto report = [&](uint64_t id, int32_t res) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("id", Num(env, static_cast<double>(id)));
    o.Set("res", Num(env, res));
    o.Set("copied", Napi::Boolean::New(env, (static_cast<uint32_t>(res) & IORING_NOTIF_USAGE_ZC_COPIED) != 0));
    return o;
  };
  if (!r->notifs.empty()) {
    auto n = r->notifs.front();
    r->notifs.pop_front();
    return report(n.first, n.second);
  }
  for (;;) {
    struct io_uring_cqe* cqe;
    struct __kernel_timespec ts = {timeoutMs / 1000, (timeoutMs % 1000) * 1000000};
    // timeout 0 is a peek: io_uring_wait_cqe_timeout would arm a timer and sleep (~150 us).
    int err = timeoutMs == 0 ? io_uring_peek_cqe(&r->ring, &cqe) : io_uring_wait_cqe_timeout(&r->ring, &cqe, &ts);
    if (err == -EAGAIN) return env.Null();
    if (err == -ETIME) return env.Null();
    if (err == -EINTR) continue;
    if (err < 0) return ThrowErrno(env, "io_uring_wait_cqe_timeout", -err);
    uint64_t ud = cqe->user_data;
    int32_t res = cqe->res;
    bool notif = (cqe->flags & IORING_CQE_F_NOTIF) != 0;
    io_uring_cqe_seen(&r->ring, cqe);
    if (notif) return report(ud, res);
  }
}

void InitUring(Napi::Env env, Napi::Object exports) {
  exports.Set("uringCompiled", Napi::Boolean::New(env, true));
  exports.Set("uringSendZcReportUsage", Num(env, IORING_SEND_ZC_REPORT_USAGE));
  exports.Set("uringCreate", Napi::Function::New(env, UringCreate));
  exports.Set("uringClose", Napi::Function::New(env, UringClose));
  exports.Set("uringProbeSendZc", Napi::Function::New(env, UringProbeSendZc));
  exports.Set("uringSendZc", Napi::Function::New(env, UringSendZc));
  exports.Set("uringWaitNotif", Napi::Function::New(env, UringWaitNotif));
}

}  // namespace zc

#else  // !ZCPROBE_HAVE_LIBURING

namespace zc {
static Napi::Value NotBuilt(const Napi::CallbackInfo& info) {
  return ThrowErrno(info.Env(), "io_uring (built without liburing-dev)", ENOSYS);
}
void InitUring(Napi::Env env, Napi::Object exports) {
  exports.Set("uringCompiled", Napi::Boolean::New(env, false));
  exports.Set("uringSendZcReportUsage", Num(env, 1U << 3));
  for (const char* name : {"uringCreate", "uringClose", "uringProbeSendZc", "uringSendZc", "uringWaitNotif"})
    exports.Set(name, Napi::Function::New(env, NotBuilt));
}
}  // namespace zc

#endif
