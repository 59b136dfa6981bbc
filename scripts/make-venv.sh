# Sourced by the install scripts: make_venv DIR creates a Python venv at DIR unless one is
# there, installing Debian's python3-venv first when the system python lacks the module.
make_venv() {
  local venv="$1"
  if [ -x "$venv/bin/pip" ]; then
    return
  fi
  if ! python3 -m venv "$venv" 2>/dev/null; then
    local sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    rm -rf "$venv"
    python3 -m venv "$venv"
  fi
}
