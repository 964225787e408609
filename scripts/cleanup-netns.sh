#!/usr/bin/env bash
# Old name of scripts/cleanup.sh (kept for muscle memory and old CI configs).
exec bash "$(dirname "$0")/cleanup.sh" "$@"
