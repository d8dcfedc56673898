#!/usr/bin/env bash
# The dashboard test renders the page in Debian's headless Chromium; it fails (never skips) without it.
# Installs Debian's chromium package when it is missing (needs root, or sudo without a password).
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
echo "installing Debian's chromium for the dashboard test (apt-get install chromium)"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "need root or sudo to install chromium: run 'apt-get install chromium' as root"; exit 1; }
  SUDO="sudo -n"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y --no-install-recommends chromium \
  || { $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends chromium; }
