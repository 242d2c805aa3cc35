# tests/cluster.bash - what the suites that start a cluster share
# (cluster.bats, clusterup.bats): servers named a, b, c on one Redis
# (redis.bash), their clients named a1, b1, ...  Load after lib and
# redis.
#
#   cl_start NAME [args...]   server NAME on $CL_REDIS (default our
#                             Redis), cluster_timeout $CL_TIMEOUT (1)
#   cl_synced NAME            NAME has read where the stream stands
#   cl_servers NAME...        Redis, then the servers, each synced
#   cl_join CLIENT NAME WAITER...  CLIENT of NAME; each WAITER sees it
#   cl_who CLIENT             its /who lines into WHO, the end line last

# Start cluster server NAME on $CL_REDIS (default our Redis' URL).
cl_start() {
	local name=$1; shift
	fc_start_named "$name" -o cluster="${CL_REDIS:-$REDIS_URL}" \
	    -o server_name="$name" -o cluster_timeout="${CL_TIMEOUT:-1}" \
	    -o admin=everyone -o log_level=debug "$@"
}

# Server NAME has read where the stream stands: the link is in use.
cl_synced() {
	grep -qE 'cluster: (reading|.*asking every server)' "${FC_LOGS[$1]}"
}

# Redis, then servers NAME... each synced (bounded).
cl_servers() {
	local name
	redis_start
	for name in "$@"; do
		cl_start "$name"
	done
	for name in "$@"; do
		wait_until 5 cl_synced "$name"
	done
}

# Client CLIENT of server NAME; every client in WAITERS sees it join.
cl_join() {
	local client=$1 srv=$2 who w
	shift 2
	fc_connect_to "$client" "$srv"
	who=guest${client#"$srv"}@$srv
	for w in "$@"; do
		fc_expect "$w" "^\*\*\* $who joined\$"
	done
}

# "/who" from client NAME: its lines, the end line last, in WHO.
cl_who() {
	local n=0
	WHO=()
	fc_send "$1" /who
	while ((n++ < 100)) && fc_read "$1"; do
		WHO+=("$FC_LINE")
		[[ $FC_LINE == "*** end of /who"* ]] && return 0
	done
	echo "cl_who $1: no end of /who" >&2
	return 1
}
