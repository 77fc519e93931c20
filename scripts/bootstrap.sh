#!/usr/bin/env bash
# Prepare this checkout to run: Debian packages, the Python virtual environment,
# MapLibre GL JS from npm, the embedded PostGIS and compiled translations.
#
#   scripts/bootstrap.sh demo   what `make demo` needs
#   scripts/bootstrap.sh test   the same plus test tools (chromium, nginx, pytest, ruff, mypy)
#
# Every step checks first and does nothing when its work is already done, so a
# second run takes seconds. Written for a bare Debian 12: no sudo, curl, ps or
# pkill are assumed.
set -euo pipefail

MODE="${1:-demo}"
case "$MODE" in
demo | test) ;;
*)
	echo "usage: $0 demo|test" >&2
	exit 2
	;;
esac

cd "$(dirname "$0")/.."
ROOT="$PWD"
VENV="$ROOT/.venv"
SYSTEM_PYTHON=/usr/bin/python3 # Debian's 3.11: never a pyenv/conda python found earlier on PATH

say() { printf '==> %s\n' "$*"; }
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# --- 1. Debian packages -------------------------------------------------------
PACKAGES=(python3 python3-venv python3-dev postgresql-15 postgresql-15-postgis-3 gdal-bin libgdal-dev g++ nodejs npm gettext)
if [[ "$MODE" == test ]]; then
	# nginx: tests/tiles/test_nginx.py runs docker/nginx.conf (brotli_static needs the module)
	PACKAGES+=(chromium nginx-light libnginx-mod-http-brotli-static)
fi

package_present() {
	# NodeSource's nodejs bundles npm (and "Provides: npm"), which dpkg -s npm does not see.
	if [[ "$1" == npm ]] && command -v npm >/dev/null; then
		return 0
	fi
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

install_packages() {
	if ! command -v dpkg-query >/dev/null; then
		say "not a Debian system: skipping package installation (needs the equivalents of: ${PACKAGES[*]})"
		return
	fi
	local missing=()
	for pkg in "${PACKAGES[@]}"; do
		package_present "$pkg" || missing+=("$pkg")
	done
	if ((${#missing[@]} == 0)); then
		say "Debian packages: all present"
		return
	fi
	if ((EUID != 0)); then
		die "missing Debian packages: ${missing[*]}
Install them as root, then run this again:
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
	fi
	say "installing Debian packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
}

# --- 2. Python virtual environment -------------------------------------------
file_hash() { sha256sum "$@" | sha256sum | cut -c1-16; }

ensure_venv() {
	[[ -x "$SYSTEM_PYTHON" ]] || die "$SYSTEM_PYTHON not found: install python3 python3-venv (Debian 12 ships Python 3.11)"
	if [[ -x "$VENV/bin/python" ]] && ! grep -qx 'home = /usr/bin' "$VENV/pyvenv.cfg" 2>/dev/null; then
		say "$VENV was not made with $SYSTEM_PYTHON: recreating it"
		rm -rf "$VENV"
	fi
	if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
		say "creating $VENV with $SYSTEM_PYTHON"
		rm -rf "$VENV"
		"$SYSTEM_PYTHON" -m venv "$VENV"
	fi

	# The stamp records what was installed: re-install only when pyproject.toml changes,
	# or when the tests need extras a demo install did not bring.
	local stamp="$VENV/.geoportal-installed" want_hash have_hash have_extras spec
	want_hash="$(file_hash pyproject.toml)"
	read -r have_hash have_extras 2>/dev/null <"$stamp" || true
	if [[ "${have_hash:-}" == "$want_hash" && -x "$VENV/bin/geoportal" ]] &&
		[[ "$MODE" == demo || "${have_extras:-}" == test ]]; then
		say "Python environment: up to date"
		return
	fi
	local extras="$MODE"
	if [[ "${have_extras:-}" == test ]]; then
		extras=test # never drop the test tools once installed
	fi
	spec="."
	if [[ "$extras" == test ]]; then
		spec=".[test]"
	fi
	say "installing the geoportal into $VENV (pip install -e '$spec'; the first run downloads wheels from PyPI)"
	"$VENV/bin/python" -m pip install --disable-pip-version-check --no-input --quiet -e "$spec"
	printf '%s %s\n' "$want_hash" "$extras" >"$stamp"
}

# --- 3. MapLibre GL JS (npm) ---------------------------------------------------
ensure_node_modules() {
	if [[ ! -f package.json ]]; then
		say "no package.json: skipping npm"
		return
	fi
	command -v npm >/dev/null || die "npm not found: install nodejs npm"
	local lock=package.json stamp=node_modules/.geoportal-installed want
	[[ -f package-lock.json ]] && lock="package.json package-lock.json"
	# shellcheck disable=SC2086 # $lock is one or two file names
	want="$(file_hash $lock)"
	if [[ -d node_modules && "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then
		say "node_modules: up to date"
		return
	fi
	if [[ -f package-lock.json ]]; then
		say "installing JavaScript packages (npm ci)"
		npm ci --no-audit --no-fund --loglevel=error
	else
		say "installing JavaScript packages (npm install: no package-lock.json)"
		npm install --no-audit --no-fund --loglevel=error
	fi
	printf '%s\n' "$want" >"$stamp"
}

# --- 4. Embedded PostGIS -------------------------------------------------------
ensure_database() {
	if [[ -n "${DATABASE_URL:-}" ]]; then
		say "DATABASE_URL is set: using that database, not the embedded one"
		return
	fi
	"$VENV/bin/geoportal" db start
}

# --- 5. Translations -------------------------------------------------------------
ensure_translations() {
	local po stale=0
	while IFS= read -r -d '' po; do
		if [[ "$po" -nt "${po%.po}.mo" ]]; then # also true when the .mo is missing
			stale=1
		fi
	done < <(find . \( -name .venv -o -name node_modules -o -name .git \) -prune -o -name '*.po' -print0)
	if ((stale == 0)); then
		return
	fi
	say "compiling translations"
	"$VENV/bin/geoportal" compilemessages --ignore=.venv --ignore=node_modules --ignore=.git --verbosity=0
}

install_packages
ensure_venv
ensure_node_modules
ensure_database
ensure_translations
