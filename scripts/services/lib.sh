# shellcheck shell=bash
# Shared helpers for the throwaway test services (sourced, not run): logging to stderr,
# state-dir layout, PID checks and stop-by-PID. Nothing here touches a non-loopback address.

SQLX_TEST_STATE="${SQLX_TEST_STATE:-/tmp/sqlx-test-services}"

log() { printf '[%s] %s\n' "${SQLX_SERVICE_NAME:-services}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Refuse state dirs that would make `rm -rf` dangerous.
check_state_dir() {
  case "$SQLX_TEST_STATE" in
    "" | / | /tmp | /tmp/ | "$HOME" | "$HOME/") die "refusing unsafe SQLX_TEST_STATE='$SQLX_TEST_STATE'" ;;
    *[[:space:]]*) die "SQLX_TEST_STATE must not contain whitespace (mariadb-install-db cannot handle it)" ;;
    /*) ;;
    *) die "SQLX_TEST_STATE must be an absolute path (got '$SQLX_TEST_STATE')" ;;
  esac
}

# read_pid FILE: prints the number in FILE, or nothing.
read_pid() {
  local pid=""
  if [[ -r "$1" ]]; then
    read -r pid <"$1" 2>/dev/null || true
  fi
  [[ "$pid" =~ ^[0-9]+$ ]] && printf '%s\n' "$pid"
  return 0
}

# pid_is PID NAME: true if PID is alive and its command name is NAME (guards against PID reuse).
pid_is() {
  local pid="$1" name="$2" comm=""
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  read -r comm <"/proc/$pid/comm" 2>/dev/null || return 1
  [[ "$comm" == "$name" ]] || return 1
  # A zombie (exited, not yet reaped) counts as stopped.
  local stat=""
  read -r stat <"/proc/$pid/stat" 2>/dev/null || return 1
  stat="${stat##*) }"
  [[ "${stat:0:1}" != Z ]]
}

# find_pid_by_arg NAME ARG: PIDs of processes named NAME whose argv contains exactly ARG.
# Used only to find our own server when its pid file is gone.
find_pid_by_arg() {
  local name="$1" arg="$2" dir pid comm
  for dir in /proc/[0-9]*; do
    pid="${dir#/proc/}"
    read -r comm <"$dir/comm" 2>/dev/null || continue
    [[ "$comm" == "$name" ]] || continue
    if tr '\0' '\n' <"$dir/cmdline" 2>/dev/null | grep -Fxq -- "$arg"; then
      printf '%s\n' "$pid"
    fi
  done
}

# stop_pid PID NAME: SIGTERM, wait up to 20 s, then SIGKILL. Only if PID still is NAME.
stop_pid() {
  local pid="$1" name="$2" i
  pid_is "$pid" "$name" || return 0
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do
    pid_is "$pid" "$name" || return 0
    sleep 0.1
  done
  log "$name (pid $pid) still alive after 20 s: sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    pid_is "$pid" "$name" || return 0
    sleep 0.1
  done
  die "could not stop $name (pid $pid)"
}

# port_in_use PORT: true if something accepts TCP connections on 127.0.0.1:PORT.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

check_port() {
  if ! [[ "$2" =~ ^[0-9]+$ ]] || (($2 < 1 || $2 > 65535)); then
    die "$1 must be a TCP port number (got '$2')"
  fi
}

# write_env FILE NAME=VALUE...: writes `export NAME=VALUE` lines (shell-quoted) atomically.
write_env() {
  local file="$1" kv
  shift
  : >"$file.tmp"
  for kv in "$@"; do
    printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}" >>"$file.tmp"
  done
  mv -f "$file.tmp" "$file"
}

# lock_service NAME: serialises up/down of one service (fd 9, released at exit). Servers must be
# started with `9>&-` so that they do not inherit the lock.
lock_service() {
  mkdir -p "$SQLX_TEST_STATE"
  exec 9>"$SQLX_TEST_STATE/.$1.lock"
  flock -w 120 9 || die "another up/down of $1 is still running (lock $SQLX_TEST_STATE/.$1.lock)"
}
