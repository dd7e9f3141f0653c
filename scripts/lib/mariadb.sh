# shellcheck shell=bash
# Private, throwaway MariaDB for the test suite. Source this file; do not run it.
#
# Why a private instance: tests must not depend on (or damage) whatever
# database the machine happens to run, must not need the system service
# (policy-rc.d forbids starting it in containers), and must be able to run
# next to another checkout's tests. So everything lives in one directory and
# the server listens on a port picked at runtime.
#
# Exports after mariadb_start: MARIADB_PORT, MARIADB_SOCKET, ROSTER_TEST_MYSQL_URL.

# Durability of the test instance. 2 = flush the redo log once a second, which
# is much faster and only loses data on an OS crash; a benchmark wants 1.
: "${MARIADB_FLUSH:=2}"
# InnoDB buffer pool. Small suits the tests' small databases; a benchmark
# with a million users wants its working set in memory, as production would.
: "${MARIADB_BUFFER_POOL:=128M}"

MARIADB_DIR=""
MARIADB_PID=""

# mariadbd lives in /usr/sbin, which is not on PATH for every user.
_mariadb_path() {
    case ":$PATH:" in
        *:/usr/sbin:*) ;;
        *) PATH="$PATH:/usr/sbin" ;;
    esac
}

_mariadb_log() { echo "mariadb: $*" >&2; }

# bash's `command -v` also reports a non-executable file, so check -x too.
_mariadb_have() {
    local p
    p=$(command -v "$1" 2>/dev/null) && [ -x "$p" ]
}

# Root client over the socket. --no-defaults must come first: a stray
# ~/.my.cnf or /etc/mysql config must not redirect us to another server.
_mariadb_root() {
    mariadb --no-defaults --socket="$MARIADB_SOCKET" --user=root "$@"
}

_mariadb_admin() {
    mariadb-admin --no-defaults --socket="$MARIADB_SOCKET" --user=root "$@"
}

mariadb_ensure_installed() {
    _mariadb_path
    local missing=()
    _mariadb_have mariadbd || missing+=(mariadb-server mariadb-client)
    # Needed to pick a free port.
    _mariadb_have python3 || missing+=(python3)
    [ ${#missing[@]} -eq 0 ] && return 0

    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            _mariadb_log "need root or sudo to install: ${missing[*]}"
            return 1
        fi
    fi
    _mariadb_log "installing ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    # </dev/null: CI has no stdin, and nothing here may wait for an answer.
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q "${missing[@]}" </dev/null
    _mariadb_have mariadbd || {
        _mariadb_log "mariadbd still not found after install"
        return 1
    }
}

_mariadb_free_port() {
    # Let the kernel choose: fixed ports collide with a system MariaDB or with
    # a parallel run. Small race until mariadbd binds it; acceptable for tests.
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

mariadb_start() {
    local dir=${1:?usage: mariadb_start <dir>}
    _mariadb_path
    if [ -n "$MARIADB_PID" ]; then
        _mariadb_log "already running (pid $MARIADB_PID)"
        return 1
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    _mariadb_install "$dir" || return 1
    _mariadb_launch "$dir" "$(_mariadb_free_port)" || return 1

    if ! _mariadb_create_user; then
        mariadb_stop
        return 1
    fi

    # No database name: each test appends its own.
    ROSTER_TEST_MYSQL_URL="mysql://roster:roster@127.0.0.1:$MARIADB_PORT"
    export MARIADB_PORT MARIADB_SOCKET ROSTER_TEST_MYSQL_URL
    _mariadb_log "MariaDB $(_mariadb_root -N -B -e 'SELECT VERSION()') ready on 127.0.0.1:$MARIADB_PORT (pid $MARIADB_PID, dir $MARIADB_DIR)"
}

# Tests create and drop one database each, hence global privileges.
# Both hosts: TCP clients match 127.0.0.1 (name resolution is off),
# socket clients match localhost.
_mariadb_create_user() {
    _mariadb_root <<'SQL' && return 0
CREATE USER 'roster'@'127.0.0.1' IDENTIFIED BY 'roster';
CREATE USER 'roster'@'localhost' IDENTIFIED BY 'roster';
GRANT ALL PRIVILEGES ON *.* TO 'roster'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'roster'@'localhost' WITH GRANT OPTION;
SQL
    _mariadb_log "could not create the roster user"
    return 1
}

# A fresh data directory under <dir>/data.
_mariadb_install() {
    local dir=$1
    local user_opt=()
    # mariadbd refuses to run as root unless told to explicitly.
    [ "$(id -u)" -eq 0 ] && user_opt=(--user=root)
    mkdir -p "$dir/tmp"
    # normal auth: root gets a plain (empty) password rather than unix_socket,
    # so we do not depend on the OS user name matching "root".
    if ! mariadb-install-db --no-defaults --datadir="$dir/data" \
        --auth-root-authentication-method=normal --skip-test-db \
        --skip-name-resolve "${user_opt[@]}" >"$dir/install-db.log" 2>&1; then
        _mariadb_log "mariadb-install-db failed:"
        tail -n 40 "$dir/install-db.log" >&2
        return 1
    fi
}

# Starts mariadbd on the data directory of <dir> (installed before, or left
# by a server that was killed) on <port>, and waits until it answers.
# Sets MARIADB_PID, MARIADB_DIR, MARIADB_SOCKET and MARIADB_PORT.
_mariadb_launch() {
    local dir=$1 port=$2
    local log=$dir/error.log
    local user_opt=()
    [ "$(id -u)" -eq 0 ] && user_opt=(--user=root)
    MARIADB_DIR=$dir
    MARIADB_SOCKET=$dir/mariadb.sock
    MARIADB_PORT=$port
    # utf8mb4 flags: a --no-defaults server would otherwise default to latin1,
    # and SCIM names/display names are arbitrary Unicode.
    # skip-log-bin: no replication here, binlogs only cost I/O.
    # skip-name-resolve: avoids DNS lookups on every connection (no network).
    mariadbd --no-defaults \
        --datadir="$dir/data" \
        --socket="$MARIADB_SOCKET" \
        --pid-file="$dir/mariadbd.pid" \
        --log-error="$log" \
        --tmpdir="$dir/tmp" \
        --port="$port" \
        --bind-address=127.0.0.1 \
        --character-set-server=utf8mb4 \
        --collation-server=utf8mb4_unicode_ci \
        --skip-log-bin \
        --skip-name-resolve \
        --innodb-buffer-pool-size="$MARIADB_BUFFER_POOL" \
        --innodb-flush-log-at-trx-commit="$MARIADB_FLUSH" \
        --max-connections=500 \
        "${user_opt[@]}" </dev/null >>"$log" 2>&1 &
    MARIADB_PID=$!

    local i
    for ((i = 0; i < 120; i++)); do
        if ! kill -0 "$MARIADB_PID" 2>/dev/null; then
            _mariadb_log "mariadbd exited during startup; last lines of $log:"
            tail -n 40 "$log" >&2
            MARIADB_PID=""
            return 1
        fi
        _mariadb_admin --connect-timeout=1 ping >/dev/null 2>&1 && break
        sleep 0.5
    done
    if ((i == 120)); then
        _mariadb_log "mariadbd not ready after 60 s; last lines of $log:"
        tail -n 40 "$log" >&2
        mariadb_stop
        return 1
    fi
}

mariadb_stop() {
    [ -n "$MARIADB_PID" ] || return 0
    local pid=$MARIADB_PID i
    MARIADB_PID=""
    _mariadb_admin shutdown >/dev/null 2>&1 || true
    for ((i = 0; i < 40; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
        _mariadb_log "mariadbd (pid $pid) ignored shutdown; killing it"
        kill -TERM "$pid" 2>/dev/null || true
        sleep 2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    # Reap it if it is our child; harmless otherwise.
    wait "$pid" 2>/dev/null || true
    _mariadb_log "stopped (pid $pid)"
}
