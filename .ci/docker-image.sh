#!/usr/bin/env bash
# Build the Docker image the sandbox tests use, without any container registry:
#   debootstrap --variant=minbase  ->  tar  ->  docker import  ->  agentcore-sandbox:test
#
# The Debian mirror is the one this machine's apt is configured with (read from
# /etc/apt/sources.list and /etc/apt/sources.list.d/*.{list,sources} at run time), so nothing
# in the repository names a package host. Idempotent and cached:
#   * if the image already exists, nothing is done (FORCE=1 rebuilds it);
#   * the root file system tarball is cached under $CACHE_DIR (outside the repository), keyed
#     by suite and package list, so a fresh dockerd only needs `docker import` (seconds).
#
# Usage:   .ci/docker-image.sh              (as root; dockerd must be running: .ci/start-dockerd.sh)
# Env:     IMAGE      image name            (default agentcore-sandbox:test)
#          SUITE      Debian suite          (default bookworm)
#          MIRROR     Debian mirror URL     (default: read from apt's configuration)
#          CACHE_DIR  tarball cache         (default /var/cache/agentcore)
#          FORCE=1    rebuild even if the image exists
set -euo pipefail

image=${IMAGE:-agentcore-sandbox:test}
suite=${SUITE:-bookworm}
cache_dir=${CACHE_DIR:-/var/cache/agentcore}
# What the sandbox needs on top of minbase (bash, coreutils, tar, findutils, util-linux are
# already there): python3 for tests and agents, procps for ps/pkill; computer use (tests/desktop):
# xvfb (the virtual display), xdotool (mouse and keyboard), x11-apps (xwd: the bench's floor),
# python3-tk (the test application).
packages="python3,procps,xvfb,xdotool,x11-apps,python3-tk"
key=$(printf '%s|%s|%s' "$suite" "$packages" "$(uname -m)" | sha256sum | cut -c1-12)

# An image built from another package list (the label says which) is rebuilt.
if [ "${FORCE:-0}" != 1 ] && [ "$(docker image inspect --format '{{index .Config.Labels "agentcore.rootfs"}}' \
        "$image" 2>/dev/null)" = "$key" ]; then
    echo "docker-image: $image already exists"
    exit 0
fi

# The first mirror configured for $suite, from one-line (.list) or deb822 (.sources) files.
find_mirror() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk -v s="$suite" '
            $1 == "deb" {
                i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                if ($(i + 1) == s) { print $i; exit }
            }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v s="$suite" '
            function flush() {
                if (deb && ok && uri != "" && !done) { print uri; done = 1 }
                deb = 0; ok = 0; uri = ""
            }
            /^[ \t]*$/ { flush(); next }
            /^Types:/ { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
            /^URIs:/ { uri = $2 }
            /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
            /^Enabled:[ \t]*no/ { deb = 0 }
            END { flush() }' "$f"
    done
}

mirror=${MIRROR:-$(find_mirror | head -n 1)}
if [ -z "$mirror" ]; then
    echo "docker-image: no apt mirror for '$suite' found in /etc/apt/sources.list*; set MIRROR=" >&2
    exit 1
fi

tarball="$cache_dir/rootfs-$suite-minbase-$key.tar"
mkdir -p "$cache_dir"

if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null || { echo "docker-image: debootstrap not installed" >&2; exit 1; }
    [ "$(id -u)" = 0 ] || { echo "docker-image: debootstrap needs root" >&2; exit 1; }
    work=$(mktemp -d "$cache_dir/build.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    echo "docker-image: debootstrap $suite from $mirror (a few minutes)"
    debootstrap --variant=minbase --include="$packages" "$suite" "$work/root" "$mirror" \
        >"$work/debootstrap.log" 2>&1 || { tail -n 40 "$work/debootstrap.log" >&2; exit 1; }
    # Smaller image, nothing host-specific inside.
    rm -rf "$work/root/var/lib/apt/lists/"* "$work/root/var/cache/apt/"*.bin \
        "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/log/"*.log
    : >"$work/root/etc/resolv.conf"
    printf 'sandbox\n' >"$work/root/etc/hostname"
    # A conventional unprivileged user for agents (uid 1000); the sandbox also works with images
    # that have no such entry because it runs commands by numeric uid.
    chroot "$work/root" useradd --uid 1000 --user-group --create-home --shell /bin/bash sandbox
    tar --numeric-owner -C "$work/root" -cf "$work/rootfs.tar" .
    mv "$work/rootfs.tar" "$tarball"
fi

echo "docker-image: importing $tarball as $image"
docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' \
    --change "LABEL agentcore.rootfs=$key" \
    "$tarball" "$image" >/dev/null
docker image inspect --format 'docker-image: {{.RepoTags}} {{.Size}} bytes' "$image"
