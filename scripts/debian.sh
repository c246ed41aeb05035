# Sourced by the setup scripts (they define `say` and `die`):
# ensure_debian_packages PKG... installs the missing ones when run as root,
# and otherwise stops with the exact command to run.
ensure_debian_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 \
      "${missing[@]}" >/dev/null
  else
    die "missing Debian packages; install them with:
  sudo apt-get install -y ${missing[*]}"
  fi
}
