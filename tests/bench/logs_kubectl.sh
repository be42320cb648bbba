#!/bin/sh
# `kubectl` for the logs benchmark: `kubectl ... logs ... -l app=<service> ...` prints <service>.log from
# $DEVCTL_BENCH_LOGS, what the faithful fake answered that call when recorded (__main__.py bench_logs
# checks that devctl prints the same through this stub as through the fake). One exec, so the timing is
# devctl's multiplexing and `cat`'s copying, the same work as the `cat` it is compared with.
# devctl asks a kubectl it found on PATH for its version once (kubectl version --client, as the fake answers).
if [ "$1" = version ]; then
  printf 'Client Version: v1.35.0\nKustomize Version: v5.7.1\n'
  exit 0
fi
for arg in "$@"; do
  case $arg in app=*) exec cat "$DEVCTL_BENCH_LOGS/${arg#app=}.log" ;; esac
done
echo "logs stub: no -l app=<service> in: kubectl $*" >&2
exit 99
