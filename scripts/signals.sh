# Sourced by run-tests.sh and run-evidence.sh. npm (and npx) send SIGINT/SIGTERM to their direct
# child only (.npmrc makes that child bash, which execs the script); a shell waiting for a
# foreground command would sit on the signal until the command ends, so each step runs as a
# background child and the signal is passed on to it at once.

# run_forwarding <signal to pass on for SIGTERM> <command...>: runs the command, passes SIGINT,
# SIGHUP (as they are) and SIGTERM (as the given signal) to it, and returns its status — or, if a
# signal came, dies of that signal itself once the command has ended (so npm reports it).
run_forwarding() {
  local on_term=$1 child rc=0
  shift
  got=''
  "$@" &
  child=$!
  trap 'got=INT; kill -INT '"$child"' 2>/dev/null || true' INT
  trap 'got=HUP; kill -HUP '"$child"' 2>/dev/null || true' HUP
  trap 'got=TERM; kill -'"$on_term"' '"$child"' 2>/dev/null || true' TERM
  while :; do
    wait "$child" && rc=0 || rc=$?
    kill -0 "$child" 2>/dev/null || break # still running: a trap interrupted the wait
  done
  trap - INT HUP TERM
  if [ -n "$got" ]; then kill -s "$got" $$; fi
  return "$rc"
}
