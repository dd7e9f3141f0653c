# Roster in a container: `docker build -t roster .` then
#   docker run -p 5000:5000 -v roster-data:/var/lib/roster roster
# The first start prints a generated API token once (docker logs).
# Configuration is by environment (README, "Configuration"); the image
# listens on all interfaces and keeps its SQLite file in the volume.

FROM rust:1-bookworm AS build
WORKDIR /src
# .cargo/config.toml carries the SQLite build flags; keep it in the context.
COPY . .
# No debug info in the shipped binary: a third of the size, same code.
ENV CARGO_PROFILE_RELEASE_DEBUG=0 CARGO_PROFILE_RELEASE_STRIP=symbols
RUN cargo build --release --locked --bin roster \
 && install -D -m 0755 target/release/roster /out/roster \
 && install -d -m 0700 /out/data

# glibc, libgcc and nothing else: the binary needs no shell, no CA bundle
# (its outgoing HTTPS uses compiled-in roots) and no SQLite library.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/roster /usr/local/bin/roster
COPY --from=build --chown=nonroot:nonroot /out/data /var/lib/roster
WORKDIR /var/lib/roster
VOLUME ["/var/lib/roster"]
ENV ROSTER_BIND=0.0.0.0:5000 \
    DATABASE_URL=sqlite:///var/lib/roster/roster.db?mode=rwc \
    ROSTER_LOG_FORMAT=json \
    ROSTER_MANAGEMENT_BIND=0.0.0.0:9000
# 9000: /healthz, /readyz and /metrics only; publish it to your monitoring
# network, not the internet.
EXPOSE 5000 9000
USER nonroot
# Probes /readyz on the management port itself (the image has no curl), so it
# works whether or not the main listener speaks TLS.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/roster", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/roster"]
CMD ["serve"]
