#!/usr/bin/env bats
# tests/primer.bats - forkchat(7), the guided tour through the code, cannot
# go stale: every file, function, test name, constant and make target it
# names is checked against the tree, and it renders without a warning.
#
# The page's conventions (its header comment says the same):
#   .It Pa FILE          a tag naming a source file: the .Fn in that item
#                        are functions of FILE
#   .Fn NAME , Pa FILE   anywhere: NAME is a function of FILE (the .Pa
#                        after one or more .Fn on the same line)
#   .Pa PATH             exists in the tree (absolute paths and build/
#                        are not the tree's)
#   .Dq TEXT             a line of its own after .Pa tests/NAME.bats, in
#                        the same paragraph or item: a test of that file
#   .Dv NAME             a word the code under master/, worker/ and
#                        common/ uses
#   .Ql make TARGET      a target of the Makefile
# A function is "of FILE" if FILE defines it at column 0, house style:
# grep '^NAME(' FILE.

ROOT=$BATS_TEST_DIRNAME/..
PAGE=$ROOT/man/forkchat.7

# The references a page makes, one a line, fields split by tabs:
#   path PATH | fn FILE NAME (FILE "-": none) | test BATS NAME |
#   const NAME | target NAME
primer_refs() {
	awk '
	function macro(t) { return t ~ /^[A-Z][a-z][a-z]?$/ }
	function delim(t) { return t ~ /^[][(),.;:|?!]$/ }
	/^\.\\"/ { next }
	!/^\./ { next }
	{
		line = substr($0, 2)
		n = split(line, w, /[ \t]+/)
		m = w[1]
		if (m == "Sh" || m == "Ss" || m == "Pp" || m == "Bl" ||
		    m == "El" || m == "It") {
			cur = ""
			bats = ""
		}
		if (m == "It" && w[2] == "Pa" && w[3] ~ /\.[ch]$/)
			cur = w[3]
		if (m == "Dq" && bats != "") {
			text = line
			sub(/^Dq[ \t]+/, "", text)
			while (text ~ /[ \t][][(),.;:|?!]$/)
				sub(/[ \t][^ \t]$/, "", text)
			print "test\t" bats "\t" text
			next
		}
		np = 0
		for (i = 1; i <= n; i++) {
			t = w[i]
			if (t == "Pa" && i < n) {
				p = w[++i]
				print "path\t" p
				for (k = 1; k <= np; k++)
					print "fn\t" p "\t" pend[k]
				np = 0
				bats = p ~ /\.bats$/ ? p : ""
			} else if (t == "Fn" && i < n) {
				pend[++np] = w[++i]
			} else if (t == "Dv") {
				while (i < n && !macro(w[i + 1]))
					if (!delim(w[++i]))
						print "const\t" w[i]
			} else if (t == "Ql" && w[i + 1] == "make" && i + 2 <= n) {
				print "target\t" w[i + 2]
			}
		}
		for (k = 1; k <= np; k++)
			print "fn\t" (cur == "" ? "-" : cur) "\t" pend[k]
	}' "$1"
}

# What the tree holds, each file read once (a grep per reference made
# the check take seconds): HAS["FILE:NAME"] for the names FILE defines
# at the start of a line ("NAME(") and for the tests a bats FILE holds
# ("@test"), HAS["code:WORD"] for every word of the server's code.
declare -gA HAS=()
read_defs() {
	local n
	[ -n "${HAS[read:$1]:-}" ] && return
	HAS[read:$1]=1
	[ -f "$ROOT/$1" ] || return 0
	while IFS= read -r n; do
		HAS["$1:$n"]=1
	done < <(sed -n -e 's/^\([A-Za-z_][A-Za-z0-9_]*\)(.*/\1/p' \
	    -e 's/^@test "\(.*\)" {$/@test \1/p' "$ROOT/$1")
}
read_code() {
	local w
	[ -n "${HAS[read:code]:-}" ] && return
	HAS[read:code]=1
	while IFS= read -r w; do
		HAS["code:$w"]=1
	done < <(grep -rhow --include='*.[ch]' -E '[A-Za-z_][A-Za-z0-9_]*' \
	    "$ROOT/master" "$ROOT/worker" "$ROOT/common" | sort -u)
}

# Check every reference of page $1 against the tree: one line per broken
# one, then the counts ("checked: N fn, N path, ..."); 1 if any is broken.
primer_check() {
	local kind a b bad=0 nfn=0 npath=0 ntest=0 nconst=0 ntarget=0
	while IFS=$'\t' read -r kind a b; do
		case $kind in
		path)
			npath=$((npath + 1))
			case $a in /* | build/*) continue ;; esac
			[ -e "$ROOT/$a" ] || { echo "no such file: $a"; bad=1; }
			;;
		fn)
			nfn=$((nfn + 1))
			if [ "$a" = - ]; then
				echo "$b(): no file named for it"
				bad=1
			elif [ ! -f "$ROOT/$a" ]; then
				echo "$b(): no such file: $a"
				bad=1
			else
				read_defs "$a"
				[ -n "${HAS[$a:$b]:-}" ] ||
				    { echo "$b(): not defined in $a"; bad=1; }
			fi
			;;
		test)
			ntest=$((ntest + 1))
			read_defs "$a"
			[ -n "${HAS[$a:@test $b]:-}" ] ||
			    { echo "no test in $a: $b"; bad=1; }
			;;
		const)
			nconst=$((nconst + 1))
			read_code
			[ -n "${HAS[code:$a]:-}" ] ||
			    { echo "no constant in the code: $a"; bad=1; }
			;;
		target)
			ntarget=$((ntarget + 1))
			grep -q "^$a:" "$ROOT/Makefile" ||
			    { echo "no make target: $a"; bad=1; }
			;;
		esac
	done < <(primer_refs "$1")
	echo "checked: $nfn fn, $npath path, $ntest test, $nconst const," \
	    "$ntarget target"
	return "$bad"
}

# A copy of the page with one sed expression applied; fails if it
# changed nothing (the test would prove nothing).
broken_copy() {
	local out=$BATS_TEST_TMPDIR/broken.7
	sed -e "$1" "$PAGE" >"$out"
	! cmp -s "$PAGE" "$out" || { echo "sed changed nothing: $1" >&2; return 1; }
	echo "$out"
}

# The checker must say no, naming what is wrong.
refused() {
	local page
	page=$(broken_copy "$1") || return 1
	run primer_check "$page"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ $output == *"$2"* ]]
}

@test "forkchat(7): every file, function, test, constant and make target it names is in the tree" {
	run primer_check "$PAGE"
	echo "$output"
	[ "$status" -eq 0 ]
	# A parser that found nothing would pass too: it must have found the tour.
	local counts=${lines[${#lines[@]} - 1]} nfn npath ntest nconst ntarget
	read -r _ nfn _ npath _ ntest _ nconst _ ntarget _ <<<"${counts//,/}"
	((nfn >= 150 && npath >= 80 && ntest >= 10 && nconst >= 30 &&
	    ntarget >= 5))
}

@test "forkchat(7) check: a renamed function, a moved file, a wrong file, a renamed test, a lost target are each refused" {
	refused 's/^\.Fn fan_deliver$/.Fn fan_deliver_all/' \
	    'fan_deliver_all(): not defined in master/fan.c'
	refused 's|^\.It Pa master/forker\.c$|.It Pa master/fork.c|' \
	    'no such file: master/fork.c'
	refused 's|^\.Pq Fn spawn_take_spare , Pa master/spawn\.c ,$|.Pq Fn spawn_take_spare , Pa master/accept.c ,|' \
	    'spawn_take_spare(): not defined in master/accept.c'
	refused 's/^\.Dq no zombies: 20 connect/.Dq no zombies: 30 connect/' \
	    'no test in tests/lifecycle.bats: no zombies: 30 connect'
	refused 's/^\.Ql make fuzz$/.Ql make fuzzing/' 'no make target: fuzzing'
	refused 's/^\.Dv SCM_RIGHTS$/.Dv SCM_RIGHT/' \
	    'no constant in the code: SCM_RIGHT'
	# A function outside any item naming its file.
	refused 's/^\.Sh SEE ALSO$/.Fn fan_all\n&/' 'fan_all(): no file named for it'
}

@test "forkchat(7): mandoc -Tlint is quiet, and it renders in 80 columns without a warning" {
	command -v mandoc >/dev/null || skip "no mandoc (Debian: apt-get install mandoc)"
	run mandoc -Tlint -W warning "$PAGE"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# No rendered line is wider than the terminal (overstrikes removed).
	run bash -c "mandoc -Tascii -O width=80 '$PAGE' | sed 's/.\x08//g' |
	    awk 'length > 80'"
	echo "$output"
	[ -z "$output" ]
	if command -v man >/dev/null; then
		run bash -c "MANWIDTH=80 man --warnings -l '$PAGE' 2>&1 >/dev/null"
		echo "$output"
		[ -z "$output" ]
	fi
}

@test "forkchat(7): every section of the tour ends with something to try" {
	# The sections between DESCRIPTION and SEE ALSO, and those with a
	# "Try it" subsection.
	local all tried
	all=$(awk '/^\.Sh /{ s = substr($0, 5) }
	    /^\.Sh / && s != "NAME" && s != "DESCRIPTION" && s != "SEE ALSO" { print s }' "$PAGE")
	tried=$(awk '/^\.Sh /{ s = substr($0, 5) } /^\.Ss Try it$/ { print s }' "$PAGE")
	echo "sections: $all"
	echo "tried: $tried"
	[ "$(wc -l <<<"$all")" -ge 8 ]
	[ "$all" = "$tried" ]
}
