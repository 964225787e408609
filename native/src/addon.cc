// Module entry: each Init* adds one syscall family's wrappers and constants.
#include "common.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  zc::InitBuffers(env, exports);
  zc::InitSockets(env, exports);
  zc::InitSend(env, exports);
  zc::InitZerocopy(env, exports);
  zc::InitUring(env, exports);
  zc::InitFiles(env, exports);
  return exports;
}

NODE_API_MODULE(zcprobe_native, Init)
