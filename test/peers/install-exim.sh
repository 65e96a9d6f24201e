#!/usr/bin/env bash
# Unpacks Debian's Exim into a directory for the CHUNKING/BDAT interop test,
# without installing it: exim4 conflicts with the postfix package the other
# tests use, and Exim is the common MTA whose SMTP client sends BDAT.
# Usage: test/peers/install-exim.sh [DEST]   (default /opt/sealgate-peers/exim; needs root)
set -euo pipefail
dest="${1:-/opt/sealgate-peers/exim}"
if [ -x "$dest/usr/sbin/exim4" ]; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
[ -d /var/lib/apt/lists/partial ] && [ -n "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v partial)" ] || apt-get update -qq
# the libraries exim4-daemon-light links against (its Depends, minus the exim packages)
apt-get install -y -qq --no-install-recommends libcrypt1 libdb5.3 libgnutls-dane0 libgnutls30 libidn12 libidn2-0 libnsl2 libpcre2-8-0 >/dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
(cd "$work" && { apt-get download -qq exim4-daemon-light exim4-base 2>/dev/null || { apt-get update -qq && apt-get download -qq exim4-daemon-light exim4-base; }; })
mkdir -p "$dest"
for deb in "$work"/*.deb; do dpkg -x "$deb" "$dest"; done
id Debian-exim >/dev/null 2>&1 || useradd -r -s /usr/sbin/nologin Debian-exim
"$dest/usr/sbin/exim4" -bV -C /dev/null >/dev/null 2>&1 || true
echo "exim unpacked in $dest"
