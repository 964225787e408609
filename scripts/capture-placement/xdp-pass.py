# Loads a two-instruction XDP program (r0 = XDP_PASS; exit) with bpf(2) and pins it, so that
# `ip link set dev X xdpdrv pinned PATH` can attach it natively. usage: xdp-pass.py PIN_PATH (on a bpffs)
import ctypes, platform, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
SYS_bpf = {'x86_64': 321, 'aarch64': 280}.get(platform.machine())
if SYS_bpf is None: sys.exit(f'xdp-pass.py: bpf(2) syscall number unknown for {platform.machine()}')
BPF_PROG_LOAD, BPF_OBJ_PIN, BPF_PROG_TYPE_XDP = 5, 6, 6
insns = struct.pack('<BBhi', 0xb7, 0, 0, 2) + struct.pack('<BBhi', 0x95, 0, 0, 0)  # r0 = XDP_PASS; exit
ibuf = ctypes.create_string_buffer(insns, len(insns)); lic = ctypes.create_string_buffer(b'GPL')
attr = ctypes.create_string_buffer(128)
struct.pack_into('<IIQQ', attr, 0, BPF_PROG_TYPE_XDP, 2, ctypes.addressof(ibuf), ctypes.addressof(lic))
fd = libc.syscall(SYS_bpf, BPF_PROG_LOAD, attr, 128)
if fd < 0: sys.exit(f'BPF_PROG_LOAD: errno {ctypes.get_errno()}')
path = ctypes.create_string_buffer(sys.argv[1].encode())
pin = ctypes.create_string_buffer(128); struct.pack_into('<QI', pin, 0, ctypes.addressof(path), fd)
if libc.syscall(SYS_bpf, BPF_OBJ_PIN, pin, 128) < 0: sys.exit(f'BPF_OBJ_PIN: errno {ctypes.get_errno()}')
print('pinned', sys.argv[1])
