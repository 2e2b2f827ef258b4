# shellcheck shell=bash
# Fetch Debian packages from a given suite and unpack them into a folder, without installing them.
#
# Newer tools (Prometheus 3, Alertmanager 0.33, Go 1.26) are only in sid; mixing suites into the
# system's apt would upgrade the machine, so we keep a private apt state under .tools/apt/<suite>
# and only ever `apt-get download` + `dpkg-deb -x`.
#
# Source this file, then:
#   deb_update SUITE [force]          # refresh the private package lists (once per run is enough)
#   deb_fetch SUITE DIR PKG...        # download PKG...'s .deb files into DIR (cached by filename)
#   deb_unpack SUITE ROOT PKG...      # fetch, then unpack every .deb into ROOT
#   deb_depends SUITE PKG             # print PKG's recursive Depends, one name a line
# Needs TOOLS_DIR (the project's .tools folder). Each suite's state is guarded by a lock file, so
# two scripts (install-tools.sh, tests/apiserver/build.sh) can use the same suite at once.

_deb_state() {
  local suite=$1 state="$TOOLS_DIR/apt/$1"
  if [[ ! -f $state/sources.list ]]; then
    mkdir -p "$state/lists/partial" "$state/archives/partial"
    printf 'deb http://deb.debian.org/debian %s main\n' "$suite" >"$state/sources.list"
  fi
  printf '%s' "$state"
}

_deb_apt() {
  local state
  state=$(_deb_state "$1")
  shift
  apt-get -q \
    -o Dir::Etc::SourceList="$state/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$state/lists" -o Dir::Cache="$state/cache" \
    -o Dir::State::Status=/dev/null -o Debug::NoLocking=1 \
    -o APT::Sandbox::User=root -o Acquire::Retries=3 "$@"
}

_deb_cache() { apt-cache \
  -o Dir::Etc::SourceList="$(_deb_state "$1")/sources.list" -o Dir::Etc::SourceParts=/dev/null \
  -o Dir::State::Lists="$(_deb_state "$1")/lists" -o Dir::Cache="$(_deb_state "$1")/cache" \
  -o Dir::State::Status=/dev/null "${@:2}"; }

deb_update() {
  local state
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
