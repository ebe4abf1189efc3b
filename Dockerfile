# SPDX-License-Identifier: MIT
#
# plutomock in a container, in place of Pluto's mock service: the same
# ports (listing server 7770, devices 7751-7760) and the same variables
# (LISTING_PORT, PORTS, LOGS_PUB_ENABLED).
#
#   podman build --format docker -t plutomock .    (or: docker build -t plutomock .)
#   podman run --rm -p 7770:7770 -p 7751-7760:7751-7760 plutomock
#
# Arguments after the image name go to plutomock (plutomock --help), e.g.
# --seed 42.  build-aux/container-check.sh builds the image, runs it and
# checks it from the host.

# The build: the daemon and plutomockctl, without the test suite, installed
# under /usr into a staging directory.
FROM debian:12 AS build

ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
  && apt-get install -y --no-install-recommends \
    gcc \
    libc6-dev \
    pkg-config \
    meson \
    ninja-build \
    gettext \
    libglib2.0-dev \
    libsoup-3.0-dev \
    libjson-glib-dev \
  && apt-get clean \
  && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .
RUN meson setup /build --prefix=/usr --buildtype=release -Dtests=false -Dfuzzing=false \
  && meson compile -C /build \
  && DESTDIR=/staging meson install -C /build --no-rebuild \
  # D-Bus activation and the systemd user unit mean nothing in a container.
  && rm -rf /staging/usr/lib/systemd /staging/usr/share/dbus-1/services

# The image: the runtime libraries, the programs and nothing else.
FROM debian:12

ARG DEBIAN_FRONTEND=noninteractive
# libsoup depends on glib-networking, which through dconf wants a session
# bus package: dbus-x11 is one, and spares the image systemd and what it
# brings (about 20 MB).  Nothing here runs a bus.
RUN apt-get update \
  && apt-get install -y --no-install-recommends \
    libglib2.0-0 \
    libsoup-3.0-0 \
    libjson-glib-1.0-0 \
    dbus-x11 \
  && apt-get clean \
  && rm -rf /var/lib/apt/lists/* \
  # The user and group Pluto's mock service runs as (1000:1000).
  && groupadd --gid 1000 plutomock \
  && useradd --uid 1000 --gid 1000 --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin plutomock

COPY --from=build /staging/ /
# The example scenarios, for SCENARIO=/usr/share/plutomock/scenarios/NAME.ini
COPY data/scenarios/ /usr/share/plutomock/scenarios/

# Pluto's mock service's variables, with the values its compose files give.
ENV LISTING_PORT=7770 \
    PORTS=7751,7752,7753,7754,7755,7756,7757,7758,7759,7760 \
    LOGS_PUB_ENABLED=false
# plutomock's own; empty means the daemon's default (see plutomock --help):
# PROFILE (pluto-legacy,pluto-new), TELEMETRY (random), NETWORK_GATE (false),
# SCENARIO (none).
ENV PROFILE= \
    TELEMETRY= \
    NETWORK_GATE= \
    SCENARIO=
# Who may use the control API under /control/v1 on the listing port.  The
# daemon's own default, loopback only, would refuse every client outside
# the container: a request through a published port arrives from the
# bridge's gateway (172.17.0.1 on Docker's default bridge, 172.18.0.1 and
# up on Compose networks, 10.88.0.1 on Podman's), or from another private
# address with rootless networking, and other containers on the same
# network come from their own addresses.  "any" is no safe default either:
# published ports listen on every interface of the host, and Docker's
# rules let clients through whatever the host's firewall says.  So the
# default is loopback plus the private ranges (RFC 1918, IPv6 unique local
# addresses), the networks AxeOS itself answers (see NETWORK_GATE).  That
# still lets in the host's LAN: to keep it out, publish the listing port
# on 127.0.0.1 only (-p 127.0.0.1:7770:7770), or narrow this to loopback
# and the gateway (CONTROL_ALLOW=127.0.0.1,172.17.0.1), or turn control
# over HTTP off (CONTROL_ALLOW=none; see HEALTHCHECK below).  The fleet
# listing (/servers) and the devices' own APIs answer anyone who can reach
# them, as real devices do.
ENV CONTROL_ALLOW=127.0.0.0/8,::1,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7
# UTF-8 messages (the C locale would escape them).  GSettings in memory:
# libsoup's proxy lookup in plutomockctl would otherwise try dconf, which
# has no home directory to write to here.
ENV LANG=C.UTF-8 \
    GSETTINGS_BACKEND=memory
# plutomockctl inside the container speaks HTTP to this daemon by default:
#   docker exec CONTAINER plutomockctl list
# (set it too when LISTING_PORT changes).
ENV PLUTOMOCK_URL=http://127.0.0.1:7770

USER 1000:1000
EXPOSE 7770 7751-7760

# plutomock stops cleanly on SIGTERM (and SIGINT): it closes every server
# and exits 0.  As PID 1 it still gets the signal, since it handles it.
STOPSIGNAL SIGTERM

# Does the daemon answer on its listing port?  plutomockctl asks for the
# status over HTTP from inside the container, so CONTROL_ALLOW must keep
# loopback (127.0.0.1) in; with CONTROL_ALLOW=none, turn the check off
# (docker run --no-healthcheck, or healthcheck: disable: true in Compose).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD plutomockctl --http "http://127.0.0.1:${LISTING_PORT:-7770}" status >/dev/null || exit 1

# Inside the container the servers bind every address, so published ports
# reach them.  There is no session bus here: the daemon says so in its log
# and offers control over HTTP only.
ENTRYPOINT ["/usr/bin/plutomock", "--bind", "0.0.0.0"]
