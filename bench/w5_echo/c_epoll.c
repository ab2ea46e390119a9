// bench/w5_echo/c_epoll.c: W5 echo (docs/design/benchmarks-method.md), plain C: the practical limit of one thread
// on epoll. Edge-triggered epoll, non-blocking sockets with TCP_NODELAY, a 64 KiB buffer per connection: on each
// event, read until a short read (or EAGAIN), writing back each read before the next; a short write waits for
// EPOLLOUT (registered once, with EPOLLIN, at accept: edge-triggered, it fires only after the send buffer was full).
//
//     c_epoll [PORT]    (0, the default: any free port)    prints `READY port=N`, then serves until killed.
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
    BUFFER = 64 * 1024
};

struct conn {
    int fd;
    size_t off, pending;  // the part of buf not yet written back
    char buf[BUFFER];
};

static void die(const char* what) {
    fprintf(stderr, "c_epoll: %s: %s\n", what, strerror(errno));
    exit(1);
}

// Writes back what is pending: 1 when all is written, 0 when the socket's buffer is full, -1 on an error.
static int flush(struct conn* c) {
    while (c->pending > 0) {
        ssize_t w = write(c->fd, c->buf + c->off, c->pending);
        if (w < 0) return errno == EAGAIN ? 0 : -1;  // EAGAIN: EPOLLOUT will call serve() again
        c->off += (size_t)w;
        c->pending -= (size_t)w;
    }
    return 1;
}

// Echoes what there is to echo; returns 0 when it would block, -1 when the connection is done.
static int serve(struct conn* c) {
    for (;;) {
        int f = flush(c);  // what a full send buffer held back last time
        if (f <= 0) return f;
        ssize_t n = read(c->fd, c->buf, BUFFER);
        if (n == 0) return -1;
        if (n < 0) return errno == EAGAIN ? 0 : -1;
        c->off = 0;
        c->pending = (size_t)n;
        if (n < BUFFER) {  // a short read: the socket is drained; the next edge brings more
            f = flush(c);
            return f < 0 ? -1 : 0;
        }
    }
}

int main(int argc, char** argv) {
    int port = argc > 1 ? atoi(argv[1]) : 0;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (lfd < 0) die("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr*)&addr, sizeof addr) != 0) die("bind");
    if (listen(lfd, SOMAXCONN) != 0) die("listen");
    socklen_t len = sizeof addr;
    if (getsockname(lfd, (struct sockaddr*)&addr, &len) != 0) die("getsockname");
    printf("READY port=%d\n", ntohs(addr.sin_port));
    fflush(stdout);

    int ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    struct epoll_event lev = {.events = EPOLLIN | EPOLLET, .data.ptr = NULL};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) != 0) die("epoll_ctl");
    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(ep, events, 256, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; ++i) {
            struct conn* c = events[i].data.ptr;
            if (c == NULL) {  // the listener: accept every pending connection
                for (;;) {
                    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
                    if (fd < 0) {
                        if (errno != EAGAIN && errno != ECONNABORTED) die("accept4");
                        if (errno == EAGAIN) break;
                        continue;
                    }
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct conn* nc = malloc(sizeof *nc);
                    if (!nc) die("malloc");
                    nc->fd = fd;
                    nc->off = nc->pending = 0;
                    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = nc};
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl");
                }
                continue;
            }
            if (serve(c) < 0) {
                close(c->fd);  // also removes it from the epoll set
                free(c);
            }
        }
    }
}
