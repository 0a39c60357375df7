#!/usr/bin/env bash
# Installs and starts the services Brigade runs on, PostgreSQL and NATS (JetStream),
# on a bare Debian/Ubuntu machine, and creates Brigade's database role and database.
# Run as root (or with sudo). Safe to run again: what is installed, running or
# created already is left as it is.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: sudo bash deploy/install-services.sh [--no-install] [--help]

Installs PostgreSQL and nats-server from the distribution's packages (apt-get),
starts both (systemd when it runs, otherwise pg_ctlcluster / start-stop-daemon),
creates the PostgreSQL role and database "brigade", waits until both services
answer and prints the DATABASE_URL and NATS_URL to export for Brigade.

Options:
  --no-install   do not install packages; only start the services and set up the database
  -h, --help     show this help

Environment:
  BRIGADE_DB_PASSWORD   password of the "brigade" role (default: brigade); set again on every run
USAGE
}

INSTALL=1
for arg in "$@"; do
  case "$arg" in
    --no-install) INSTALL=0 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install-services: unknown argument: $arg" >&2; usage >&2; exit 2 ;;
  esac
done

DB_USER=brigade
DB_NAME=brigade
DB_PASSWORD=${BRIGADE_DB_PASSWORD:-brigade}
NATS_BIN=/usr/sbin/nats-server
NATS_PORT=4222
NATS_STORE=/var/lib/nats-server
NATS_LOG=/var/log/nats-server.log
HBA_MARKER="# added by brigade deploy/install-services.sh"

log() { printf '==> %s\n' "$*"; }
die() { printf 'install-services: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root, e.g. sudo bash $0"
# psql run as the postgres user warns when it cannot read the current folder.
cd /

# systemd is "running" when it booted the machine (sd_booted(3)); not so in most containers.
systemd_running() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

# ---- install ------------------------------------------------------------------
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

if [ "$INSTALL" -eq 1 ]; then
  missing=()
  installed postgresql || missing+=(postgresql)
  installed nats-server || missing+=(nats-server)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
  else
    log "postgresql and nats-server are installed"
  fi
fi

command -v pg_ctlcluster >/dev/null 2>&1 || die "PostgreSQL is not installed (run without --no-install)"
[ -x "$NATS_BIN" ] || die "$NATS_BIN is not installed (run without --no-install)"

# ---- PostgreSQL -----------------------------------------------------------------
# shellcheck disable=SC2012 # version folders: plain numbers
PG_VERSION=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$PG_VERSION" ]; then
  # shellcheck disable=SC2012
  PG_VERSION=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$PG_VERSION" ] || die "no PostgreSQL version found in /etc/postgresql or /usr/lib/postgresql"
fi
if [ ! -d "/etc/postgresql/$PG_VERSION/main" ]; then
  log "creating PostgreSQL $PG_VERSION cluster main"
  pg_createcluster "$PG_VERSION" main
fi
PG_PORT=$(pg_lsclusters -h | awk -v v="$PG_VERSION" '$1 == v && $2 == "main" { print $3 }')
[ -n "$PG_PORT" ] || die "cannot read the port of PostgreSQL cluster $PG_VERSION/main"

if systemd_running; then
  log "starting PostgreSQL $PG_VERSION/main with systemd"
  systemctl enable --now postgresql
  # postgresql.service only pulls in the clusters; start ours explicitly (no-op when up).
  systemctl start "postgresql@$PG_VERSION-main"
elif pg_ctlcluster "$PG_VERSION" main status >/dev/null 2>&1; then
  log "PostgreSQL $PG_VERSION/main is running (port $PG_PORT)"
else
  log "starting PostgreSQL $PG_VERSION/main (no systemd)"
  pg_ctlcluster "$PG_VERSION" main start
fi

# ---- NATS -----------------------------------------------------------------------
# Reads the INFO line NATS sends on connect; succeeds when something answers as NATS.
nats_info() {
  timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$NATS_PORT && IFS= read -r -t 2 line <&3 && printf '%s\n' \"\$line\"" 2>/dev/null
}
nats_up() { nats_info | grep -q '^INFO '; }

if systemd_running; then
  # Debian's unit runs `nats-server -c /etc/nats-server.conf`, whose config does not
  # turn JetStream on. Brigade needs it: add the flags in a drop-in.
  dropin_dir=/etc/systemd/system/nats-server.service.d
  dropin=$dropin_dir/brigade-jetstream.conf
  changed=0
  if ! systemctl cat nats-server 2>/dev/null | grep -Eq -- '(^|[[:space:]])(-js|--jetstream)([[:space:]]|$)' &&
    ! grep -Eqs '^[[:space:]]*jetstream' /etc/nats-server.conf; then
    log "enabling JetStream for nats-server.service ($dropin)"
    mkdir -p "$dropin_dir"
    conf_args=""
    [ -f /etc/nats-server.conf ] && conf_args="-c /etc/nats-server.conf "
    cat >"$dropin" <<EOF
[Service]
ExecStart=
ExecStart=$NATS_BIN ${conf_args}-js -sd $NATS_STORE
EOF
    changed=1
  fi
  mkdir -p "$NATS_STORE"
  if id nats >/dev/null 2>&1; then chown nats:nats "$NATS_STORE"; fi
  systemctl daemon-reload
  log "starting nats-server with systemd"
  systemctl enable --now nats-server
  if [ "$changed" -eq 1 ]; then systemctl restart nats-server; fi
elif nats_up; then
  log "nats-server is running (127.0.0.1:$NATS_PORT)"
else
  log "starting nats-server (no systemd)"
  mkdir -p "$NATS_STORE"
  start-stop-daemon --start --oknodo --background --exec "$NATS_BIN" -- \
    -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$NATS_STORE" -l "$NATS_LOG"
fi

# ---- wait until both answer -------------------------------------------------------
wait_for() {
  local what=$1; shift
  local i
  for i in $(seq 1 60); do
    if "$@"; then return 0; fi
    sleep 0.5
  done
  die "$what did not answer within 30 seconds"
}
wait_for "PostgreSQL on port $PG_PORT" pg_isready -q -h 127.0.0.1 -p "$PG_PORT"
wait_for "NATS on 127.0.0.1:$NATS_PORT" nats_up
if ! nats_info | grep -q '"jetstream":true'; then
  echo "install-services: warning: the NATS server on 127.0.0.1:$NATS_PORT runs without JetStream," >&2
  echo "  which Brigade needs; restart it with -js -sd $NATS_STORE" >&2
fi

# ---- role and database --------------------------------------------------------------
as_postgres() { runuser -u postgres -- "$@"; }
pg_sql() { as_postgres psql -X -q -p "$PG_PORT" -d postgres -v ON_ERROR_STOP=1 "$@"; }

if [ "$(pg_sql -tAc "select 1 from pg_roles where rolname = '$DB_USER'")" = "1" ]; then
  log "role $DB_USER exists"
else
  log "creating role $DB_USER"
  as_postgres createuser -p "$PG_PORT" "$DB_USER"
fi
# Through standard input, so the password is neither in argv nor in psql's -c (which
# does not interpolate variables). Always set, so it follows BRIGADE_DB_PASSWORD.
pg_sql -v role="$DB_USER" -v password="$DB_PASSWORD" >/dev/null <<'SQL'
alter role :"role" with login password :'password';
SQL

if [ "$(pg_sql -tAc "select 1 from pg_database where datname = '$DB_NAME'")" = "1" ]; then
  log "database $DB_NAME exists"
else
  log "creating database $DB_NAME owned by $DB_USER"
  as_postgres createdb -p "$PG_PORT" -O "$DB_USER" "$DB_NAME"
fi

# Password login over TCP from 127.0.0.1. Debian's default pg_hba.conf already allows
# it (host all all 127.0.0.1/32 scram-sha-256); add a rule only when the login fails.
can_login() {
  PGPASSWORD=$DB_PASSWORD PGCONNECT_TIMEOUT=5 psql -X -q -h 127.0.0.1 -p "$PG_PORT" \
    -U "$DB_USER" -d "$DB_NAME" -tAc 'select 1' >/dev/null 2>&1
}
if can_login; then
  log "password login as $DB_USER over 127.0.0.1 works"
else
  hba_file=$(pg_sql -tAc 'show hba_file')
  if grep -qF "$HBA_MARKER" "$hba_file"; then
    die "cannot log in as $DB_USER over 127.0.0.1 although $hba_file has Brigade's rule; check it"
  fi
  log "adding a scram-sha-256 rule for $DB_USER from 127.0.0.1 to $hba_file"
  # First matching rule wins: put ours before the first rule of the file.
  tmp=$(mktemp)
  awk -v marker="$HBA_MARKER" -v rule="host    $DB_NAME    $DB_USER    127.0.0.1/32    scram-sha-256" '
    !done && $0 !~ /^[[:space:]]*(#|$)/ { print marker; print rule; done = 1 }
    { print }
    END { if (!done) { print marker; print rule } }' "$hba_file" >"$tmp"
  cat "$tmp" >"$hba_file" # keeps the file's owner and mode
  rm -f "$tmp"
  pg_ctlcluster "$PG_VERSION" main reload
  sleep 1
  can_login || die "still cannot log in as $DB_USER over 127.0.0.1; check $hba_file"
fi

# ---- result -----------------------------------------------------------------------
urlencode() {
  local LC_ALL=C # byte by byte, so UTF-8 characters become %XX sequences
  local s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case "$c" in
      [a-zA-Z0-9.~_-]) out+=$c ;;
      *) out+=$(printf '%%%02X' "'$c") ;;
    esac
  done
  printf '%s' "$out"
}

cat <<EOF

PostgreSQL $PG_VERSION and NATS (JetStream) are running. For Brigade:

  export DATABASE_URL=postgres://$DB_USER:$(urlencode "$DB_PASSWORD")@127.0.0.1:$PG_PORT/$DB_NAME
  export NATS_URL=nats://127.0.0.1:$NATS_PORT
EOF
