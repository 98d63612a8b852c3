# tap-jira as a container image whose entrypoint is the tap:
#
#   docker build -t tap-jira .
#   docker run --rm -v "$PWD:/config" tap-jira --config /config/config.json --discover > catalog.json
#   docker run --rm -i -v "$PWD:/config" tap-jira --config /config/config.json \
#       --catalog /config/catalog.json --state /config/state.json | target-postgres -c pg.json
#
# Singer messages on stdout, logs on stderr, as outside a container. The tap writes a rotated
# OAuth refresh token back to its config file (or `oauth_token_file`): mount that file writable.

# The build: the locked dependencies and the release profile, as `cargo install --path .` does.
FROM docker.io/library/rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --package tap-jira --bin tap-jira

# The image: the binary and the CA certificates it verifies Jira's against (rustls reads the
# system's store), run as an unprivileged user.
FROM docker.io/library/debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/tap-jira /usr/local/bin/tap-jira
USER 65532:65532
WORKDIR /config
ENTRYPOINT ["tap-jira"]
CMD ["--help"]
