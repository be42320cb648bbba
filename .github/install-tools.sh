#!/usr/bin/env bash
# Installs the pinned kind, kubectl and skaffold (linux-amd64) into DIR, verifying each SHA-256 before use.
#
#   .github/install-tools.sh DIR
#
# Versions and checksums live in one place: .github/tools.env ($TOOLS_ENV overrides the path, for tests).
# A download whose checksum does not match is never installed; the script stops with exit 1.
# An empty *_SHA256 (not pinned yet) is checked against the checksum file published next to the binary
# instead, with a warning that prints the value to pin.
set -euo pipefail

tools_env="${TOOLS_ENV:-$(dirname "${BASH_SOURCE[0]}")/tools.env}"
dest="${1:?usage: install-tools.sh DIR}"

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "install-tools.sh installs linux-amd64 binaries; this machine is $(uname -s) $(uname -m)" >&2
  exit 2
fi

# shellcheck source=tools.env
. "$tools_env"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$dest"

fetch() {
  curl -fsSL --retry 3 --retry-delay 2 -o "$2" "$1"
}

# install_tool NAME VERSION URL SHA256 CHECKSUM_URL VERSION_ARGS...
install_tool() {
  local name=$1 version=$2 url=$3 want=$4 sum_url=$5
  shift 5
  local file="$work/$name"
  fetch "$url" "$file"
  if [ -z "$want" ]; then
    fetch "$sum_url" "$file.published-sha256"
    want="$(awk '{print $1; exit}' "$file.published-sha256")"
    echo "::warning title=${name} checksum not pinned::${name} ${version} checked only against the published ${sum_url##*/}; pin ${name^^}_SHA256=${want} in .github/tools.env"
  fi
  if ! [[ "$want" =~ ^[0-9a-f]{64}$ ]]; then
    echo "::error title=${name} checksum malformed::expected 64 lower-case hex digits, got '${want}'" >&2
    exit 1
  fi
  if ! printf '%s  %s\n' "$want" "$file" | sha256sum -c -; then
    echo "::error title=${name} checksum mismatch::${url} has sha256 $(sha256sum "$file" | cut -d' ' -f1), expected ${want}" >&2
    exit 1
  fi
  install -m 0755 "$file" "$dest/$name"
  local reported
  reported="$("$dest/$name" "$@" 2>&1 || true)"
  if [[ "$reported" != *"$version"* ]]; then
    echo "::error title=${name} wrong version::'$name $*' does not report ${version}: ${reported}" >&2
    exit 1
  fi
  echo "installed ${name} ${version} (sha256 ${want}) to ${dest}/${name}"
}

install_tool kind "$KIND_VERSION" \
  "https://github.com/kubernetes-sigs/kind/releases/download/${KIND_VERSION}/kind-linux-amd64" \
  "$KIND_SHA256" \
  "https://github.com/kubernetes-sigs/kind/releases/download/${KIND_VERSION}/kind-linux-amd64.sha256sum" \
  version

install_tool kubectl "$KUBECTL_VERSION" \
  "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/amd64/kubectl" \
  "$KUBECTL_SHA256" \
  "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/amd64/kubectl.sha256" \
  version --client

install_tool skaffold "$SKAFFOLD_VERSION" \
  "https://github.com/GoogleContainerTools/skaffold/releases/download/${SKAFFOLD_VERSION}/skaffold-linux-amd64" \
  "$SKAFFOLD_SHA256" \
  "https://github.com/GoogleContainerTools/skaffold/releases/download/${SKAFFOLD_VERSION}/skaffold-linux-amd64.sha256" \
  version
