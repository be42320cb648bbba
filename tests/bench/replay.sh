#!/bin/sh
# Replay fake for the benchmark: answers a call with what the faithful fake answered when recorded
# (fakelib/main.py, DEVCTL_FAKE_RECORD), so devctl's own overhead is measured, not Python start-up.
# The key is the md5 of "tool\0arg\0...\0", with the per-run temporary Skaffold config (`up`'s build
# step) named by its file name only: __main__.py's replay_arg files the recording under that key too.
# Few processes (md5sum, cat): this stub stands in for an instant tool, so it should cost little itself.
tool=${0##*/}
key=$( {
  printf '%s\0' "$tool"
  for arg in "$@"; do
    case $arg in */devctl-skaffold-*/*) arg="@TMP@/${arg##*/}" ;; esac
    printf '%s\0' "$arg"
  done
} | md5sum)
key=${key%% *}
printf '%s %s\n' "$tool" "$*" >> "$DEVCTL_REPLAY_DIR/calls.log"
base="$DEVCTL_REPLAY_DIR/$key"
case " $* " in *" -f - "*|*" --config - "*|*" -f=- "*) cat > /dev/null ;; esac
if [ ! -f "$base.code" ]; then
  echo "replay: no recording for: $tool $*" >&2
  exit 99
fi
[ -s "$base.out" ] && cat "$base.out"
[ -s "$base.err" ] && cat "$base.err" >&2
read -r code < "$base.code"
exit "$code"
