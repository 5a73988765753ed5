#!/usr/bin/env bash
# Makes sure the system packages in system-packages.txt are installed for the given needs
# (`test` when none is named; `bench` too for benchmarks). `npm test` runs this first and
# `.ci/run` before `npm ci`, so a missing redis-server is found in a second, not as a
# `spawn redis-server ENOENT` deep inside the test run.
#
# Missing packages: as root with apt-get, they are installed (apt-get update, then
# install --no-install-recommends); otherwise this exits 1 at once, printing the exact line to
# run. MESHLET_SYSTEM_DEPS=check never installs, only checks (for a root shell that should
# not change the machine).
set -euo pipefail

list="$(dirname "${BASH_SOURCE[0]}")/system-packages.txt"
needs=("$@")
[ ${#needs[@]} -gt 0 ] || needs=(test)

# A command counts wherever Debian puts it: daemons live in sbin, off a non-root PATH.
installed() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]
}

missing=()
while read -r package command need _why; do
  case "$package" in '' | '#'*) continue ;; esac
  for wanted in "${needs[@]}"; do
    if [ "$need" = "$wanted" ] && ! installed "$command"; then missing+=("$package"); fi
  done
done <"$list"
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ "${MESHLET_SYSTEM_DEPS:-}" != check ]; then
  echo "system-deps: installing ${missing[*]} (needed by: ${needs[*]})" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2 || echo "system-deps: apt-get update failed; installing from the package lists at hand" >&2
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 && exit 0
  echo "system-deps: apt-get could not install ${missing[*]} (its error is above)" >&2
  exit 1
fi

{
  echo "system-deps: missing system packages: ${missing[*]} (listed in test/support/system-packages.txt)."
  echo "Install them, then run the command again:"
  echo
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
  echo
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "(no apt-get here: install the same packages with this system's package manager)"
  fi
} >&2
exit 1
