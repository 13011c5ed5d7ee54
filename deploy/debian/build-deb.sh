#!/usr/bin/env bash
# Builds build/deb/shmetrics_VERSION_ARCH.deb with dpkg-deb from a staged
# `make install PREFIX=/usr`, without debhelper: the package is simple enough
# that its control data is written here (deploy/debian/ holds the templates and
# maintainer scripts).  Prints the path of the package on its last line.
#   MAKE_ARGS="BUILD=..."  passed to make (e.g. another build directory)
set -eu
cd "$(dirname "$0")/../.."

out=build/deb
stage=$out/stage
rm -rf "$stage"
mkdir -p "$stage/DEBIAN"

# shellcheck disable=SC2086
make -s ${MAKE_ARGS:-} install PREFIX=/usr DESTDIR="$PWD/$stage" UNITDIR=/lib/systemd/system \
	DOCDIR=/usr/share/doc/shmetrics >&2

# Debian layout: stripped programs, compressed manual pages.
for f in "$stage"/usr/bin/* "$stage"/usr/libexec/shmetrics/*; do
	strip --strip-unneeded --remove-section=.comment --remove-section=.note "$f"
done
for f in "$stage"/usr/lib/*.so.* "$stage"/usr/lib/python3/dist-packages/shmetrics/*.so; do
	[ -f "$f" ] && strip --strip-unneeded --remove-section=.comment "$f"
done
gzip -9n "$stage"/usr/share/man/man1/*.1

version=$("$stage/usr/bin/shmetrics-agent" --version | awk '{ print $2 }')
arch=$(dpkg --print-architecture)

# Library dependencies as dpkg-shlibdeps computes them (it wants a debian/control).
depends="libc6, libmicrohttpd12, libjansson4, zlib1g"
if command -v dpkg-shlibdeps >/dev/null 2>&1; then
	tmp=$(mktemp -d)
	mkdir "$tmp/debian"
	printf 'Source: shmetrics\n\nPackage: shmetrics\nArchitecture: any\n' >"$tmp/debian/control"
	bins=$(cd "$stage" && ls "$PWD"/usr/bin/* "$PWD"/usr/libexec/shmetrics/*)
	# shellcheck disable=SC2086
	if d=$(cd "$tmp" && dpkg-shlibdeps -O $bins 2>/dev/null); then
		depends=${d#shlibs:Depends=}
	fi
	rm -rf "$tmp"
fi

size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
	-e "s/@DEPENDS@/$depends/" deploy/debian/control.in >"$stage/DEBIAN/control"
install -m 0644 deploy/debian/conffiles "$stage/DEBIAN/"
install -m 0755 deploy/debian/postinst deploy/debian/prerm deploy/debian/postrm "$stage/DEBIAN/"
# The custom-collector library (make install-lib) is a shared object in /usr/lib:
# the dynamic linker's cache must learn about it.
if compgen -G "$stage/usr/lib/*.so.*" >/dev/null; then
	echo "activate-noawait ldconfig" >"$stage/DEBIAN/triggers"
	chmod 0644 "$stage/DEBIAN/triggers"
fi
(cd "$stage" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -print |
	sed 's#^\./##' | LC_ALL=C sort | xargs md5sum) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/md5sums"

deb="$out/shmetrics_${version}_$arch.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >&2
echo "$deb"
