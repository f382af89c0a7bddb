#!/usr/bin/env bash
# deps.sh installs what building and testing Parley needs on a Debian machine:
# ffmpeg/ffprobe, libopus + libopusfile (cgo, via pkg-config), libturbojpeg,
# heif-convert/heif-enc, exiftool and opusinfo (test corpus and checks),
# promtool (prometheus) and helm for deploy/check, redis-server and
# redis-sentinel for the failover drill, and the versitygw S3
# server (go install). It installs only what is missing, and
# fails with a clear message when it cannot (not root, no apt-get).
set -euo pipefail

VERSITYGW_VERSION="${VERSITYGW_VERSION:-v1.8.0}"

need_pkgs=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_pc() { pkg-config --exists "$1" 2>/dev/null; }

have_cmd pkg-config || need_pkgs+=(pkg-config)
have_cmd ffmpeg || need_pkgs+=(ffmpeg)
have_cmd ffprobe || need_pkgs+=(ffmpeg)
have_cmd heif-convert || need_pkgs+=(libheif-examples)
have_cmd exiftool || need_pkgs+=(libimage-exiftool-perl)
have_cmd opusinfo || need_pkgs+=(opus-tools)
have_cmd gcc || need_pkgs+=(gcc)
have_cmd node || need_pkgs+=(nodejs)
have_cmd npm || need_pkgs+=(npm)
# Debian's Chromium for the browser tests (playwright-core drives it; no
# browser is ever downloaded).
have_cmd chromium || need_pkgs+=(chromium)
have_cmd promtool || need_pkgs+=(prometheus)
# The Redis Sentinel failover drill runs its own master, replica and sentinels.
have_cmd redis-server || need_pkgs+=(redis-server)
have_cmd redis-sentinel || need_pkgs+=(redis-sentinel)
if have_cmd pkg-config; then
	have_pc opus || need_pkgs+=(libopus-dev)
	have_pc opusfile || need_pkgs+=(libopusfile-dev)
	have_pc libturbojpeg || need_pkgs+=(libturbojpeg0-dev)
else
	need_pkgs+=(libopus-dev libopusfile-dev libturbojpeg0-dev)
fi

if ((${#need_pkgs[@]})); then
	# shellcheck disable=SC2207
	need_pkgs=($(printf '%s\n' "${need_pkgs[@]}" | sort -u))
	echo "deps: installing Debian packages: ${need_pkgs[*]}" >&2
	if ! have_cmd apt-get; then
		echo "deps: apt-get not found; install these packages by hand: ${need_pkgs[*]}" >&2
		exit 1
	fi
	SUDO=""
	if [ "$(id -u)" != 0 ]; then
		if have_cmd sudo; then SUDO="sudo"; else
			echo "deps: not root and no sudo; run as root or install: ${need_pkgs[*]}" >&2
			exit 1
		fi
	fi
	export DEBIAN_FRONTEND=noninteractive
	log="$(mktemp -t parley-apt.XXXXXX)"
	if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}"; } >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		echo "deps: apt-get failed (log: $log)" >&2
		exit 1
	fi
	rm -f "$log"
fi

GOBIN="$(go env GOPATH)/bin"
if ! [ -x "$GOBIN/versitygw" ] && ! have_cmd versitygw; then
	echo "deps: go install versitygw@${VERSITYGW_VERSION} (about a minute)" >&2
	go install "github.com/versity/versitygw/cmd/versitygw@${VERSITYGW_VERSION}"
fi

# deploy/check (make test) lints and renders the Helm chart with helm and
# checks the alert rules with promtool (Debian's prometheus package).
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
if ! [ -x "$GOBIN/helm" ] && ! have_cmd helm; then
	echo "deps: go install helm@${HELM_VERSION} (a minute or two)" >&2
	go install "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
fi

# The web client's Node packages, exactly as locked. Re-run when the
# lockfile is newer than the installed tree.
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -f "$repo/web/package-lock.json" ]; then
	stamp="$repo/web/node_modules/.package-lock.json"
	if ! [ -f "$stamp" ] || [ "$repo/web/package-lock.json" -nt "$stamp" ]; then
		echo "deps: npm ci in web/ (Node packages from the lockfile)" >&2
		log="$(mktemp -t parley-npm.XXXXXX)"
		if ! (cd "$repo/web" && npm ci --no-audit --no-fund) >"$log" 2>&1; then
			tail -n 30 "$log" >&2
			echo "deps: npm ci failed (log: $log)" >&2
			exit 1
		fi
		rm -f "$log"
	fi
fi
