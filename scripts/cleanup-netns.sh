#!/usr/bin/env bash
# Old name of scripts/cleanup.sh, kept for muscle memory: removes only what dead zcprobe runs left
# (namespaces, the nic transport's interfaces given back first, links, work dirs, mounts, loop
# devices, sysctls); never a live run's.
exec bash "$(dirname "$0")/cleanup.sh" "$@"
