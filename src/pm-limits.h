/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Every limit plutomock puts on what a client sends, in one place.  The
 * README's "Limits" table lists each with what a client gets past it.
 */

/* ---- HTTP request head (screened before libsoup sees it) ---------------- */

/* The longest request line, CRLF included: past it, 414. */
#define PM_LIMIT_REQUEST_LINE_BYTES (8 * 1024)
/* The largest request head, request line and headers: past it, 431. */
#define PM_LIMIT_HEAD_BYTES (16 * 1024)
/* The most header lines in one request head: past it, 431. */
#define PM_LIMIT_HEADER_LINES 100

/* ---- HTTP request body -------------------------------------------------- */

/* The largest request body a device takes (PATCH /api/system): past it,
 * 413, answered as soon as a Content-Length over it is seen. */
#define PM_LIMIT_BODY_BYTES (64 * 1024)
/* The largest request body the listing server takes (it needs none). */
#define PM_LIMIT_LISTING_BODY_BYTES 4096

/* ---- Stored overrides (PATCH /api/system) ------------------------------- */

/* The deepest nesting of arrays and objects in a PATCH body: past it, 400. */
#define PM_LIMIT_JSON_DEPTH 64
/* The largest a device's stored overrides may grow, serialised: past it,
 * 413 and nothing stored. */
#define PM_LIMIT_OVERRIDES_BYTES (256 * 1024)
/* The most members a device's stored overrides may hold: past it, 413 and
 * nothing stored. */
#define PM_LIMIT_OVERRIDES_MEMBERS 1024

/* ---- WebSocket (/api/ws) ------------------------------------------------ */

/* The largest message a log client may send, all its frames together:
 * past it, close 1009. */
#define PM_LIMIT_WS_MESSAGE_BYTES (4 * 1024)
/* The most a log client may send over the whole connection, frame headers
 * included: past it, close 1008. */
#define PM_LIMIT_WS_TOTAL_BYTES (1024 * 1024)

/* ---- Time --------------------------------------------------------------- */

/* How long a connection may take to deliver a complete request, head and
 * body: past it, 408 and the connection is shut. */
#define PM_LIMIT_REQUEST_TIMEOUT_MS 30000
/* How long data sent to a peer may go unacknowledged, or its window stay
 * shut, before the kernel drops the connection (TCP_USER_TIMEOUT). */
#define PM_LIMIT_SEND_TIMEOUT_MS 30000

/* ---- Keep-alive -------------------------------------------------------- */

/* How long a kept-alive connection may stay idle between requests before
 * it is closed (a Node server's default). */
#define PM_LIMIT_KEEPALIVE_IDLE_MS 5000
/* The most connections kept alive per server (device or listing server):
 * past it, replies say `Connection: close`. */
#define PM_LIMIT_KEEPALIVE_PER_SERVER 64
/* The most connections kept alive in the whole process: past it, replies
 * say `Connection: close`.  Fewer where the descriptor limit demands (see
 * PM_LIMIT_FD_RESERVE). */
#define PM_LIMIT_KEEPALIVE_TOTAL 16384
/* Descriptors never given to kept-alive connections: whatever the fleet's
 * listening sockets leave of the descriptor limit, this many stay free for
 * new clients, WebSockets and D-Bus, so that idle connections cannot lock
 * the fleet out. */
#define PM_LIMIT_FD_RESERVE 1024

/* ---- D-Bus -------------------------------------------------------------- */

/* The longest hostname (a DNS label). */
#define PM_LIMIT_HOSTNAME_CHARS 63
/* The longest firmware version, in characters. */
#define PM_LIMIT_FIRMWARE_CHARS 64
/* The most characters of a client's value an error message quotes. */
#define PM_LIMIT_QUOTE_CHARS 64
