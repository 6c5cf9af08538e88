# doublure: a test double of the Logora users API and the w.c.s. user API.
#
#   docker build -t doublure .
#   docker run --rm -p 8080:8080 doublure
#   docker run --rm -p 8080:8080 -v "$PWD/my-fixtures:/fixtures:ro" \
#       -e DOUBLURE_FIXTURES=/fixtures doublure
#
# The built-in fixtures are compiled into the binary: the image needs no
# files beside it. Mount your own fixture directory at /fixtures (the
# documented mount point) and set DOUBLURE_FIXTURES=/fixtures to serve it.

FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY fixtures ./fixtures
RUN cargo build --release --locked --bin doublure \
 && cp target/release/doublure /doublure

# distroless/cc: glibc and nothing else (no shell, no curl), which is why the
# health check is the binary's own `doublure healthcheck`.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /doublure /usr/local/bin/doublure
# The public URL is what `docker run -p 8080:8080` makes reachable from the
# host; the listen address 0.0.0.0 is no address a browser can use. Set
# DOUBLURE_PUBLIC_URL when the container is reached otherwise.
ENV DOUBLURE_LISTEN=0.0.0.0:8080 \
    DOUBLURE_PUBLIC_URL=http://localhost:8080 \
    DOUBLURE_LOG_FORMAT=json \
    DOUBLURE_LOG_LEVEL=info
EXPOSE 8080
VOLUME ["/fixtures"]
USER nonroot
HEALTHCHECK --interval=5s --timeout=3s --start-period=2s --retries=3 \
    CMD ["/usr/local/bin/doublure", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/doublure"]
