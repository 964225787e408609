{
  "targets": [
    {
      "target_name": "zcprobe_native",
      "sources": [
        "native/src/addon.cc",
        "native/src/buffers.cc",
        "native/src/sockets.cc",
        "native/src/send.cc",
        "native/src/zerocopy.cc",
        "native/src/uring.cc",
        "native/src/files.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags_cc": ["-std=c++17", "-fno-exceptions", "-Wall", "-Wno-missing-field-initializers"],
      "conditions": [
        ["'<!(test -f /usr/include/liburing.h && echo yes || echo no)'=='yes'", {
          "defines": ["ZCPROBE_HAVE_LIBURING"],
          "libraries": ["-luring"]
        }]
      ]
    },
    {
      "target_name": "zcrelay",
      "type": "executable",
      "sources": ["native/relay/zcrelay.c"],
      "defines": ["_GNU_SOURCE"],
      "cflags_c": ["-std=gnu11", "-O2", "-Wall", "-Wextra"]
    },
    {
      "target_name": "zcshim",
      "type": "shared_library",
      "product_prefix": "",
      "product_extension": "so",
      "sources": ["native/shim/zcshim.c"],
      "defines": ["_GNU_SOURCE"],
      "cflags": ["-fPIC"],
      "cflags_c": ["-std=gnu11", "-O2", "-g", "-Wall", "-Wextra"],
      "ldflags": ["-ldl"],
      "conditions": [
        ["'<!(test -f /usr/include/liburing.h && echo yes || echo no)'=='yes'", {
          "defines": ["ZCSHIM_HAVE_LIBURING"]
        }]
      ]
    },
    {
      "target_name": "zcbench",
      "type": "executable",
      "sources": ["native/bench/zcbench.c", "native/bench/loops.c"],
      "defines": ["_GNU_SOURCE"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra"],
      "conditions": [
        ["'<!(test -f /usr/include/liburing.h && echo yes || echo no)'=='yes'", {
          "defines": ["ZCBENCH_HAVE_LIBURING"],
          "libraries": ["-luring"]
        }]
      ]
    }
  ]
}
