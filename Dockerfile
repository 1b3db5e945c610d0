# syntax=docker/dockerfile:1
# mailroom as a container image: the one binary, for `serve` (the
# unsubscribe and subscribe links) and `send` (the weekly run), with
# `/data` as the newsletter directory (config.toml, the store, the key,
# the outbox). scripts/docker-smoke builds and smoke-tests it; CI does not
# (there is no Docker engine there). See examples/deploy/ for the rest.
#
#   docker build -t mailroom .
#   docker run --rm -v /srv/news:/data mailroom init /data
#   docker run -d -p 127.0.0.1:8080:8080 -v /srv/news:/data mailroom        # serve
#   docker run --rm -v /srv/news:/data mailroom send /data/issue.md --yes
#
# Without Docker Hub, scripts/docker-bases makes both base images locally
# and names them with these two arguments (podman, no daemon).
ARG RUST_IMAGE=rust:1.94-slim-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# --- build: the stripped release binary ([profile.release]) ------------
FROM ${RUST_IMAGE} AS build
WORKDIR /src
# Only what the build reads: sources, compile-time templates and
# migrations, and the bench target Cargo.toml declares.
COPY Cargo.toml Cargo.lock build.rs askama.toml ./
COPY src src
COPY migrations migrations
COPY email-templates email-templates
COPY benches benches
# Cache mounts keep the registry and compiled dependencies between builds.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin mailroom \
    && install -m 0755 target/release/mailroom /usr/local/bin/mailroom

# --- run: Debian slim, CA certificates for TLS relays, no root -----------
FROM ${RUNTIME_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin mailroom \
    && mkdir /data && chown mailroom:mailroom /data
COPY --from=build /usr/local/bin/mailroom /usr/local/bin/mailroom
USER mailroom
WORKDIR /data
VOLUME /data
# Inside a container the service must listen beyond loopback; publish the
# port on the host's loopback and put the TLS proxy in front
# (examples/deploy/). Name the proxy in MAILROOM_WEB__TRUSTED_PROXIES.
ENV MAILROOM_WEB__BIND=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["mailroom"]
CMD ["serve"]
