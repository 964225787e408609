#!/bin/bash
# PID 1 of a zcprobe kernels guest (harness/kernels): the initramfs mounted the root image
# (/dev/vda, a throw-away qemu snapshot) and hands over here. Disks: /dev/vdb is the job disk
# (job.env in, out/ back to the host, read after power-off), /dev/vdc the kernel's modules.
# Runs the suite bounded by the job's time limit, then powers off: the host never reads results
# from this console, only from the job disk.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8

poweroff_now() {
  sync
  umount /job 2>/dev/null
  echo o >/proc/sysrq-trigger
  sleep 5
  exit 1 # PID 1 exiting panics the kernel; qemu runs with -no-reboot and panic=-1, so it stops
}

mount -t proc proc /proc
uptime_at_init=$(cut -d' ' -f1 /proc/uptime)
mount -t sysfs sys /sys
mountpoint -q /dev || mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
echo zcprobe-guest >/proc/sys/kernel/hostname
ip link set lo up

mkdir -p /job
if ! mount -t ext4 /dev/vdb /job; then
  echo "zcprobe guest: no job disk (/dev/vdb)"
  poweroff_now
fi
mkdir -p /lib/modules
mount -t ext4 -o ro /dev/vdc /lib/modules || echo "zcprobe guest: no modules disk (/dev/vdc): modules cannot load"

# job.env: SUITE, TIME_LIMIT_S, ZCPROBE_TEST_FILES (exported)
. /job/job.env
out=/job/out
mkdir -p "$out"
echo "${uptime_at_init}" >"$out/uptime-at-init"
echo "zcprobe guest: $(uname -r), suite ${SUITE}, limit ${TIME_LIMIT_S} s"
timeout -k 10 "${TIME_LIMIT_S}" bash /opt/zcprobe/scripts/kernels/suite.sh "${SUITE}" "$out" >"$out/suite.log" 2>&1
echo $? >"$out/suite.status"
dmesg >"$out/dmesg.txt" 2>&1
cut -d' ' -f1 /proc/uptime >"$out/uptime-at-end"
echo "zcprobe guest: suite exited $(cat "$out/suite.status")"
poweroff_now
