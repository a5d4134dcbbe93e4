#!/usr/bin/env bash
# The device check's one entry command, for a machine with no network and no Node:
#   bash scripts/device-check/run.sh OUT_DIR [--quick] [--parts a,b] [--deadline-s 540]
# It unpacks the archive made by pack.mjs (.device-check/bundle.tar.gz, or $DEVICE_CHECK_BUNDLE),
# runs every part with the carried Node, writes JSON into OUT_DIR and prints the Markdown summary.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:?usage: run.sh OUT_DIR [--quick] [--parts a,b]}"
shift
bundle="${DEVICE_CHECK_BUNDLE:-$root/.device-check/bundle.tar.gz}"
[ -f "$bundle" ] || { echo "device check: no $bundle (run: node scripts/device-check/pack.mjs)" >&2; exit 2; }
work="$(mktemp -d "${TMPDIR:-/tmp}/device-check.XXXXXX")"
trap 'rm -rf "$work"' EXIT
tar -xzf "$bundle" -C "$work"
app="$work/app"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
# WebGPU on a machine without a GPU (CI): SwiftShader when no Vulkan driver is named.
if [ -z "${VK_ICD_FILENAMES:-}" ] && ! command -v nvidia-smi >/dev/null 2>&1 && [ -f /usr/lib/chromium/vk_swiftshader_icd.json ]; then
  export VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
fi
export DEVICE_CHECK_ROOT="$app"
rc=0
"$app/node" "$app/scripts/device-check/check.mjs" "$out" "$@" || rc=$?
"$app/node" "$app/scripts/device-check/summary.mjs" "$out" | tee "$out/summary.md"
exit $rc
