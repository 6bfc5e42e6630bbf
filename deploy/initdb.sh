#!/usr/bin/env bash
# PostgreSQL's first start (docker-entrypoint-initdb.d): the app's role and database. The role
# is not a superuser and cannot bypass row-level security, and owns its tables (FORCE'd RLS
# holds the owner too): Stockroom refuses to run as a role that would see every company.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username postgres \
  -v password="$STOCKROOM_DB_PASSWORD" <<'SQL'
CREATE ROLE stockroom LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE PASSWORD :'password';
CREATE DATABASE stockroom OWNER stockroom;
SQL
