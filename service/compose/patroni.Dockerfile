# PostgreSQL 15, Patroni and etcd from Debian 12, the same packages `make ha-test`
# runs on loopback. One image for the etcd service and the two database nodes.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 patroni etcd-server etcd-client \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/postgresql/patroni && chown postgres: /var/lib/postgresql/patroni
COPY service/compose/patroni.yml service/compose/patroni-bootstrap.sh /etc/patroni/
USER postgres
ENTRYPOINT ["patroni", "/etc/patroni/patroni.yml"]
