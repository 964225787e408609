#!/usr/bin/env bash
# Installs what zcprobe needs on a Debian/Ubuntu host, only what is missing:
# system packages (tcpdump, liburing-dev, iproute2, ethtool, a C++ toolchain, the mkfs tools and
# losetup of the loop-image filesystems; tshark for the tests; nginx, apache2, lighttpd for zcprobe serve) and the npm
# dependencies + native addon (npm ci). Safe to run repeatedly; fast when all is present.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
have_cmd() { PATH="$PATH:/usr/sbin:/sbin" command -v "$1" >/dev/null 2>&1; }
have_cmd tcpdump || need_pkgs+=(tcpdump)
have_cmd ip || need_pkgs+=(iproute2)
have_cmd tc || need_pkgs+=(iproute2)
have_cmd ethtool || need_pkgs+=(ethtool)
have_cmd setpriv || need_pkgs+=(util-linux)
have_cmd g++ || need_pkgs+=(g++)
have_cmd make || need_pkgs+=(make)
have_cmd python3 || need_pkgs+=(python3)
[ -f /usr/include/liburing.h ] || need_pkgs+=(liburing-dev)
# --fs ext4|xfs|btrfs: loop devices and mkfs (a filesystem whose tools are missing is skipped)
have_cmd losetup || need_pkgs+=(mount)
have_cmd mkfs.ext4 || need_pkgs+=(e2fsprogs)
have_cmd mkfs.xfs || need_pkgs+=(xfsprogs)
have_cmd mkfs.btrfs || need_pkgs+=(btrfs-progs)

rebuild=0
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "zcprobe setup: missing system packages: ${need_pkgs[*]}" >&2
    echo "zcprobe setup: run as root (sudo npm test) or install them: apt-get install ${need_pkgs[*]}" >&2
    exit 1
  fi
  echo "zcprobe setup: apt-get install ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  case " ${need_pkgs[*]} " in *" liburing-dev "*) rebuild=1 ;; esac
fi

# tshark: the tests' independent decoder (test-support/tshark.ts). Optional: without it those
# tests skip with the reason. wireshark-common asks whether non-root users may capture; the
# answer is preseeded (no) so the install never waits for input.
if ! have_cmd tshark; then
  if [ "$(id -u)" = 0 ] && have_cmd apt-get; then
    echo "zcprobe setup: apt-get install tshark (the tests' independent decoder)"
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
    install_tshark() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends tshark >/dev/null; }
    # a machine that had every other package never ran apt-get update here: retry after one
    install_tshark 2>/dev/null || { apt-get update -qq && install_tshark; } \
      || echo "zcprobe setup: tshark could not be installed; the tshark cross-checks will be skipped" >&2
  else
    echo "zcprobe setup: tshark missing (apt-get install tshark as root); the tshark cross-checks will be skipped" >&2
  fi
fi

# zcprobe serve: real servers from the distribution (nginx, apache2, lighttpd). Optional: a server
# that is missing is skipped with the reason. Their services must stay stopped: unless the host has
# a policy-rc.d already, one that denies every start is in place for the install only.
missing_servers=()
for s in nginx apache2 lighttpd; do [ -x "/usr/sbin/$s" ] || missing_servers+=("$s"); done
if [ ${#missing_servers[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && have_cmd apt-get; then
    echo "zcprobe setup: apt-get install ${missing_servers[*]} (zcprobe serve; their services are not started)"
    policy=/usr/sbin/policy-rc.d
    own_policy=0
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\n# zcprobe setup: no service starts while the servers are installed\nexit 101\n' > "$policy"
      chmod 755 "$policy"
      own_policy=1
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    install_servers() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing_servers[@]}" >/dev/null; }
    install_servers 2>/dev/null || { apt-get update -qq && install_servers; } \
      || echo "zcprobe setup: ${missing_servers[*]} could not be installed; zcprobe serve will skip them" >&2
    if [ "$own_policy" = 1 ]; then rm -f "$policy"; trap - EXIT; fi
  else
    echo "zcprobe setup: ${missing_servers[*]} missing (apt-get install as root); zcprobe serve will skip them" >&2
  fi
fi

# npm writes node_modules/.package-lock.json on every install: an older one means the lock file
# changed since (e.g. a new dev dependency such as the linter), so node_modules is stale.
if [ ! -d node_modules ] || [ ! -f build/Release/zcprobe_native.node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "zcprobe setup: npm ci (builds the native addon)"
  npm ci --no-audit --no-fund
elif [ -n "$(find native binding.gyp -newer build/Release/zcprobe_native.node -type f 2>/dev/null | head -1)" ]; then
  # a pull or merge changed the addon's sources since it was built
  echo "zcprobe setup: native sources changed since the addon was built: rebuilding it"
  npm run build:native >/dev/null
elif [ "$rebuild" = 1 ]; then
  echo "zcprobe setup: liburing-dev was just installed: rebuilding the addon with io_uring support"
  npm rebuild --foreground-scripts >/dev/null
fi
