#!/usr/bin/env bash
# Installs what building and testing zipline-tray needs, on Debian/Ubuntu.
# Elsewhere it prints the equivalent packages and exits non-zero if any is missing.
set -euo pipefail

# Fyne's cgo build (GLFW, OpenGL, X11 and Wayland headers), then what the
# tests use: a virtual X server, a session bus, a real Secret Service
# (gnome-keyring), clipboard and screenshot tools, weston and wl-clipboard for
# the Wayland clipboard test (weston runs on the virtual X server);
# mingw-w64 for `make cross`.
DEBIAN_PKGS=(gcc libc6-dev pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev
  libxinerama-dev libxi-dev libxxf86vm-dev libwayland-dev libxkbcommon-dev
  xvfb x11-utils imagemagick xdotool xclip dbus gnome-keyring libsecret-tools curl time
  weston wl-clipboard gcc-mingw-w64-x86-64)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${DEBIAN_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && exit 0
  echo "deps: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

cat >&2 <<'TXT'
deps: not a Debian/Ubuntu system; install the equivalent of:
  Fedora: gcc libXcursor-devel libXrandr-devel mesa-libGL-devel libXi-devel libXinerama-devel
          libXxf86vm-devel wayland-devel libxkbcommon-devel xorg-x11-server-Xvfb dbus-daemon
          gnome-keyring xclip xdotool ImageMagick weston wl-clipboard
  Arch:   gcc libxcursor libxrandr libxinerama libxi libxxf86vm wayland libxkbcommon mesa
          xorg-server-xvfb dbus gnome-keyring xclip xdotool imagemagick weston wl-clipboard
  macOS:  xcode-select --install   (the GUI tests that need Xvfb and D-Bus run on Linux only)
TXT
exit 1
