#!/bin/sh
# Patroni's post_bootstrap, once, on the node that initialised the cluster:
# kept's role and database (keptd migrate creates the rest).
set -eu
psql -v ON_ERROR_STOP=1 -d postgres <<SQL
CREATE ROLE kept LOGIN PASSWORD '${KEPT_DB_PASSWORD}';
CREATE DATABASE kept OWNER kept;
SQL
