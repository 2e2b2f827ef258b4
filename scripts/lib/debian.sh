# shellcheck shell=bash
# Fetch Debian packages from a given suite and unpack them into a folder, without installing them.
#
# Newer tools (Prometheus 3, Alertmanager 0.33, Go 1.26) are only in sid; mixing suites into the
# system's apt would upgrade the machine, so we keep a private apt state under .tools/apt/<suite>
# and only ever `apt-get download` + `dpkg-deb -x`.
#
# The archive is authenticated by Debian's own keyring, named with `signed-by`, and by nothing
# else: the private state points apt's trusted folder at an empty one. So Debian and Ubuntu (which
# has no Debian keys in /etc/apt/trusted.gpg.d) behave alike, and tests/kind proves it.
#
# Source this file, then:
#   deb_update SUITE [force]          # refresh the private package lists (once per run is enough)
#   deb_fetch SUITE DIR PKG...        # download PKG...'s .deb files into DIR (cached by filename)
#   deb_unpack SUITE ROOT PKG...      # fetch, then unpack every .deb into ROOT
#   deb_depends SUITE PKG             # print PKG's recursive Depends, one name a line
# Needs TOOLS_DIR (the project's .tools folder). Each suite's state is guarded by a lock file, so
# two scripts (install-tools.sh, tests/apiserver/build.sh) can use the same suite at once.

DEBIAN_KEYRING=${DEBIAN_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}

# Debian's archive keyring, installed with the system's own apt (Ubuntu's archive carries it,
# authenticated by Ubuntu's keys) when it is missing.
deb_keyring() {
  [[ -s $DEBIAN_KEYRING ]] && return 0
  local sudo=""
  [[ $(id -u) == 0 ]] || sudo="sudo -n"
  echo "install-tools: $DEBIAN_KEYRING is missing: apt-get install debian-archive-keyring" >&2
  $sudo apt-get install -y -q --no-install-recommends debian-archive-keyring >/dev/null 2>&1 ||
    { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q --no-install-recommends \
      debian-archive-keyring >/dev/null; } ||
    { echo "install-tools: could not install debian-archive-keyring (run: sudo apt-get install" \
      "debian-archive-keyring)" >&2 && return 1; }
  [[ -s $DEBIAN_KEYRING ]] || { echo "install-tools: debian-archive-keyring has no $DEBIAN_KEYRING" >&2 && return 1; }
}

_deb_state() {
  local suite=$1 state="$TOOLS_DIR/apt/$1"
  mkdir -p "$state/lists/partial" "$state/archives/partial" "$state/trusted.gpg.d"
  # Checked every time (a state made before signed-by was added gets it too) and replaced
  # atomically: another script may be reading it.
  local line
  line=$(printf 'deb [signed-by=%s] http://deb.debian.org/debian %s main' "$DEBIAN_KEYRING" "$suite")
  if [[ $(cat "$state/sources.list" 2>/dev/null) != "$line" ]]; then
    printf '%s\n' "$line" >"$state/sources.list.$$"
    mv -f "$state/sources.list.$$" "$state/sources.list"
  fi
  printf '%s' "$state"
}

_deb_apt() {
  local state
  state=$(_deb_state "$1")
  shift
  _deb_apt_in "$state" "$state/sources.list" "$@"
}

# _deb_apt_in STATE SOURCES_LIST ARGS: apt-get in the private state (tests/kind gives it a line
# without signed-by, to show that nothing else would authenticate the archive).
_deb_apt_in() {
  local state=$1 sources=$2
  shift 2
  apt-get -q \
    -o Dir::Etc::SourceList="$sources" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$state/lists" -o Dir::Cache="$state/cache" \
    -o Dir::Etc::Trusted="$state/trusted.gpg" -o Dir::Etc::TrustedParts="$state/trusted.gpg.d" \
    -o Dir::State::Status=/dev/null -o Debug::NoLocking=1 \
    -o APT::Sandbox::User=root -o Acquire::Retries=3 "$@"
}

_deb_cache() { apt-cache \
  -o Dir::Etc::SourceList="$(_deb_state "$1")/sources.list" -o Dir::Etc::SourceParts=/dev/null \
  -o Dir::State::Lists="$(_deb_state "$1")/lists" -o Dir::Cache="$(_deb_state "$1")/cache" \
  -o Dir::State::Status=/dev/null "${@:2}"; }

deb_update() {
  local state
  deb_keyring
  state=$(_deb_state "$1")
  (
    flock 9
    # Lists younger than a day are reused: the suites move slowly enough for tests.
    local fresh
    fresh=$(find "$state/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)
    if [[ ${2:-} == force || -z $fresh ]]; then
      mkdir -p "$state/cache"
      _deb_apt "$1" update >/dev/null
    fi
  ) 9>"$state/lock"
}

deb_fetch() {
  local suite=$1 dir=$2 state
  shift 2
  state=$(_deb_state "$suite")
  mkdir -p "$dir"
  (
    flock 9
    cd "$dir" || exit
    # sid moves daily: lists from this morning may name a file the mirror has already dropped.
    if ! _deb_apt "$suite" download "$@" >/dev/null 2>&1; then
      _deb_apt "$suite" update >/dev/null
      _deb_apt "$suite" download "$@" >/dev/null
    fi
  ) 9>"$state/lock"
}

# The .deb file names the suite's lists currently choose for PKG..., one a line.
deb_files() {
  local suite=$1
  shift
  _deb_apt "$suite" download --print-uris "$@" | awk '{print $2}'
}

deb_unpack() {
  local suite=$1 root=$2 deb
  shift 2
  local dl="$TOOLS_DIR/apt/$suite/debs"
  deb_fetch "$suite" "$dl" "$@"
  mkdir -p "$root"
  # Exactly the versions just fetched: the cache keeps older ones, which must not win.
  for deb in $(deb_files "$suite" "$@"); do
    dpkg-deb -x "$dl/$deb" "$root"
  done
}

deb_depends() {
  _deb_cache "$1" depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances "$2" | grep -E '^[a-z0-9]' | sort -u
}
