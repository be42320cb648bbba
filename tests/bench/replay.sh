#!/bin/sh
# Replay fake for the benchmark: answers a call with what the faithful fake answered when recorded
# (fakelib/main.py, DEVCTL_FAKE_RECORD), so devctl's own overhead is measured, not Python start-up.
tool=$(basename "$0")
key=$( { printf '%s\0' "$tool" "$@"; } | md5sum | cut -c1-32)
printf '%s %s\n' "$tool" "$*" >> "$DEVCTL_REPLAY_DIR/calls.log"
base="$DEVCTL_REPLAY_DIR/$key"
case " $* " in *" -f - "*|*" --config - "*|*" -f=- "*) cat > /dev/null ;; esac
if [ ! -f "$base.code" ]; then
  echo "replay: no recording for: $tool $*" >&2
  exit 99
fi
cat "$base.out"
cat "$base.err" >&2
exit "$(cat "$base.code")"
