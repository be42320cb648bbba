#!/bin/sh
# `kubectl` for the logs benchmark: `kubectl ... logs ... -l app=<service> ...` prints <service>.log from
# $DEVCTL_BENCH_LOGS, what the faithful fake answered that call when recorded (__main__.py bench_logs
# checks that devctl prints the same through this stub as through the fake). One exec, so the timing is
# devctl's multiplexing and `cat`'s copying, the same work as the `cat` it is compared with.
for arg in "$@"; do
  case $arg in app=*) exec cat "$DEVCTL_BENCH_LOGS/${arg#app=}.log" ;; esac
done
echo "logs stub: no -l app=<service> in: kubectl $*" >&2
exit 99
