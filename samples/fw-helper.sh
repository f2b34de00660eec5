#!/usr/bin/env bash
# fw-helper.sh - a sample helper for mxguard's exec firewall backend
# (--firewall exec:/path/to/fw-helper.sh), speaking protocol 1 of
# docs/FIREWALL.md. It keeps what it is asked to enforce in a file, one
# "ADDR/LEN ACTION EXPIRY-EPOCH" per line; a real helper would call a remote
# appliance's or a cloud firewall's API where this one edits the file.
# It validates every request: what it is sent comes from mxguard, but a
# helper with more privileges than mxguard must not trust its input.
set -u
LIST=${MXG_FW_STATE:-/var/lib/mxguard/fw-helper.list}
touch "$LIST"
addr_re='^([0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}|[0-9a-f:]+/[0-9]{1,3})$'
action_re='^(block|tarpit|limit(:[0-9]+/[0-9]+)?)$'
# Keep every line but ADDR's lines for ACTION (any limit for "limit").
drop() {
	local a=$1 act=${2%%:*}
	awk -v a="$a" -v act="$act" '!($1 == a && ($2 == act || (act == "limit" && $2 ~ /^limit/)))' "$LIST" > "$LIST.tmp"
	mv "$LIST.tmp" "$LIST"
}

read -r hello || exit 1
[ "$hello" = "mxguard-fw 1" ] || { echo "error unsupported protocol: $hello"; exit 1; }
echo "ok 1"
while read -r verb addr action seconds; do
	case $verb in
	block)
		if [[ ! $addr =~ $addr_re ]] || [[ ! $action =~ $action_re ]] || [[ ! $seconds =~ ^[0-9]+$ ]]; then
			echo "error bad request"; continue
		fi
		drop "$addr" "$action"
		echo "$addr $action $(( $(date +%s) + seconds ))" >> "$LIST"
		echo ok ;;
	release)
		if [[ ! $addr =~ $addr_re ]] || [[ ! $action =~ $action_re ]]; then echo "error bad request"; continue; fi
		drop "$addr" "$action"
		echo ok ;;
	flush)
		: > "$LIST"
		echo ok ;;
	quit)
		exit 0 ;;
	*)
		echo "error unknown request: $verb" ;;
	esac
done
