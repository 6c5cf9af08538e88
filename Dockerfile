# doublure: a test double of the Logora users API and the w.c.s. user API.
#
#   docker build -t doublure .
#   docker run --rm -p 8080:8080 doublure
#   docker run --rm -p 8080:8080 -v "$PWD/my-fixtures:/fixtures:ro" \
#       -e DOUBLURE_FIXTURES=/fixtures doublure
#
# The image is one static binary FROM scratch: no shell, no libc, no package
# manager, which is why the health check is the binary's own
# `doublure healthcheck`. The built-in fixtures are compiled in; mount your
# own fixture directory at /fixtures and set DOUBLURE_FIXTURES=/fixtures.
#
# HTTPS (and HTTP/2), with a CA kept in a folder of yours, so that clients
# trust it once (docs/https.md):
#
#   mkdir -p ca && docker run --rm -p 8443:8080 --user "$(id -u):$(id -g)" \
#       -v "$PWD/ca:/ca" -e DOUBLURE_TLS=1 -e DOUBLURE_TLS_CA_DIR=/ca \
#       -e DOUBLURE_PUBLIC_URL=https://localhost:8443 doublure
#   curl --cacert ca/ca.pem https://localhost:8443/__doublure/health
#
# The health check follows DOUBLURE_TLS.
#
# The `build` stage can be replaced by a directory that holds a `doublure`
# binary already built for the image's architecture (musl, static), so that
# CI and the release workflow compile once and pull no base image:
#
#   docker build --build-context build=DIR -t doublure .     (podman too)

# Base images are named in full, so Podman reads this file as Docker does.
FROM docker.io/library/rust:1-slim-bookworm AS build
# musl-tools brings musl-gcc, which the dependencies that compile C (ring;
# mimalloc, the allocator) need to build for the musl target; `uname -m`
# makes the same stage build for x86_64 and aarch64. DL3008 (pin apt
# package versions) is ignored: musl-tools comes from the base image's own
# Debian release, and a pinned version would break the build at Debian's
# next point release.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add "$(uname -m)-unknown-linux-musl"
WORKDIR /src
# Dependencies first, in a layer of their own: built against a stub crate,
# they are reused as long as Cargo.toml and Cargo.lock do not change.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && cargo build --release --locked --target "$(uname -m)-unknown-linux-musl" --bin doublure \
 && rm -rf src
COPY src ./src
COPY fixtures ./fixtures
# COPY keeps the files' modification times, which can be older than the
# stub's build: touch the crate roots so that cargo rebuilds doublure.
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked --target "$(uname -m)-unknown-linux-musl" --bin doublure \
 && cp "target/$(uname -m)-unknown-linux-musl/release/doublure" /doublure

FROM scratch
# VERSION is Cargo.toml's (a test keeps them equal); the release workflow
# passes the tag's.
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="doublure" \
      org.opencontainers.image.description="A fast test double of the Logora users API and the w.c.s. user API" \
      org.opencontainers.image.source="https://github.com/doublure/doublure" \
      org.opencontainers.image.url="https://github.com/doublure/doublure" \
      org.opencontainers.image.documentation="https://github.com/doublure/doublure#docker" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT"
COPY --from=build /doublure /usr/local/bin/doublure
# The public URL is what `docker run -p 8080:8080` makes reachable from the
# host; the listen address 0.0.0.0 is no address a browser can use. Set
# DOUBLURE_PUBLIC_URL when the container is reached otherwise.
ENV DOUBLURE_LISTEN=0.0.0.0:8080 \
    DOUBLURE_PUBLIC_URL=http://localhost:8080 \
    DOUBLURE_LOG_FORMAT=json \
    DOUBLURE_LOG_LEVEL=info
EXPOSE 8080
# A numeric user: scratch has no /etc/passwd, and Kubernetes' runAsNonRoot
# can only check a number. 65532 is distroless' "nonroot".
USER 65532:65532
HEALTHCHECK --interval=5s --timeout=3s --start-period=2s --retries=3 \
    CMD ["/usr/local/bin/doublure", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/doublure"]
