# shellcheck shell=bash
# tests/upgrade.bash - what the suites that upgrade a server share
# (upgrade.bats, clusterup.bats): the server runs from a copy of the
# binary in the test's own directory, and the test installs another
# build at that path before SIGUSR2, as `make install` would.  Load after
# lib.
#
#   ORIG                     the binary under test ($FORKCHATD at load)
#   VARIANTS                 where make check built next, next-snap and
#                            next-chan (FC_VARIANTS, or beside ORIG)
#   upgrade_setup            BIN: a fresh copy of ORIG; the variants exist
#   install_bin FILE [MODE]  FILE at BIN (mode 755 unless MODE)

ORIG=$FORKCHATD
VARIANTS=${FC_VARIANTS:-${FORKCHATD%/*}}

upgrade_setup() {
	local v
	# Not under a "bin" directory: make check-valgrind does not follow
	# an exec into */bin/* (system programs), and an upgrade is one.
	BIN=$BATS_TEST_TMPDIR/server/forkchatd
	mkdir -p "${BIN%/*}"
	cp "$ORIG" "$BIN"
	for v in next next-snap next-chan; do
		[ -x "$VARIANTS/$v/forkchatd" ] || {
			echo "no $VARIANTS/$v/forkchatd: run make check" >&2
			return 1
		}
	done
}

# A new file renamed over the old one, which the running processes keep.
install_bin() {
	cp "$1" "$BIN.new"
	chmod "${2:-755}" "$BIN.new"
	mv -f "$BIN.new" "$BIN"
}
