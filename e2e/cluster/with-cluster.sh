#!/usr/bin/env bash
# with-cluster.sh COMMAND...: runs COMMAND with the test cluster up, and stops the cluster afterwards if
# this script started it, on failure and on Ctrl-C too. A cluster that was already running stays up, so
# a developer's own cluster survives `npm test`. TOLLGATE_KEEP_CLUSTER=1 keeps it up regardless.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)

started=0
if ! bash "$here/cluster.sh" status >/dev/null 2>&1; then started=1; fi

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ $started -eq 1 ] && [ "${TOLLGATE_KEEP_CLUSTER:-0}" != 1 ]; then bash "$here/cluster.sh" down; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash "$here/cluster.sh" up || exit $?
"$@" &
child=$!
# Waiting on a background child lets the traps run as soon as a signal arrives. Ctrl-C reaches the
# child from the terminal already (same process group); a SIGTERM sent to this script is passed on.
trap 'wait $child; exit 130' INT
trap 'kill -TERM $child 2>/dev/null; wait $child; exit 143' TERM
wait $child
