// bench/w7_idle/idlegen.c: the client side of W7 idle connections (docs/design/benchmarks-method.md). It opens
// N connections to a W5 echo server, one after the other (so no server's accept queue ever overflows, whatever
// its backlog): each sends one message of S bytes, waits for all S bytes to come back and checks them, then
// stays open and silent. With every connection held it prints
//     HELD n=<N> ms=<wall time to open them all>
// and waits until its stdin ends (bench/run.py reads the server's memory meanwhile), then closes them all and
// prints
//     RESULT workload=w7_idle runtime=<RUNTIME> n=<N>
// Every connection has served a message before it idles, as a keep-alive connection of a real server has: the
// server's per-connection reading state exists (a buffer, a task, a goroutine's grown stack), not only an
// accepted socket.
//
//     idlegen HOST PORT N SIZE [RUNTIME]
//
// Exits 1 on a refused or closed connection, a wrong echo, or no answer within 10 s.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int die(const char* what, int i) {
    fprintf(stderr, "idlegen: connection %d: %s: %s\n", i, what, errno ? strerror(errno) : "closed");
    return 1;
}

int main(int argc, char** argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: idlegen HOST PORT N SIZE [RUNTIME]\n");
        return 2;
    }
    const char* host = argv[1];
    const int port = atoi(argv[2]);
    const int n = atoi(argv[3]);
    const int size = atoi(argv[4]);
    const char* runtime = argc > 5 ? argv[5] : "?";
    if (n <= 0 || size <= 0 || size > 65536) {
        fprintf(stderr, "idlegen: N > 0 and 0 < SIZE <= 65536\n");
        return 2;
    }

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 16) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "idlegen: not an IPv4 address: %s\n", host);
        return 2;
    }

    int* fds = calloc((size_t)n, sizeof *fds);
    char* out = malloc((size_t)size);
    char* in = malloc((size_t)size);
    if (!fds || !out || !in) return die("out of memory", -1);

    const struct timeval ten_s = {10, 0};
    const int one = 1;
    const double start = now_ms();
    for (int i = 0; i < n; ++i) {
        errno = 0;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return die("socket", i);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &ten_s, sizeof ten_s);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &ten_s, sizeof ten_s);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, (struct sockaddr*)&addr, sizeof addr) != 0) return die("connect", i);
        for (int k = 0; k < size; ++k) out[k] = (char)('a' + (i + k) % 26);  // a pattern per connection
        for (int sent = 0; sent < size;) {
            ssize_t w = send(fd, out + sent, (size_t)(size - sent), MSG_NOSIGNAL);
            if (w <= 0) return die("send", i);
            sent += (int)w;
        }
        for (int got = 0; got < size;) {
            errno = 0;
            ssize_t r = recv(fd, in + got, (size_t)(size - got), 0);
            if (r <= 0) return die(errno == EAGAIN ? "no echo within 10 s" : "recv", i);
            got += (int)r;
        }
        if (memcmp(in, out, (size_t)size) != 0) {
            errno = 0;
            fprintf(stderr, "idlegen: connection %d: the echo differs from what was sent\n", i);
            return 1;
        }
        fds[i] = fd;
    }
    printf("HELD n=%d ms=%.1f\n", n, now_ms() - start);
    fflush(stdout);

    char line[64];
    while (fgets(line, sizeof line, stdin)) {
    }
    // Still held? A connection the server closed meanwhile reads as end of stream.
    int lost = 0;
    for (int i = 0; i < n; ++i) {
        char c;
        ssize_t r = recv(fds[i], &c, 1, MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) ++lost;
        close(fds[i]);
    }
    if (lost) {
        fprintf(stderr, "idlegen: %d of %d connections were closed by the server while idle\n", lost, n);
        return 1;
    }
    printf("RESULT workload=w7_idle runtime=%s n=%d\n", runtime, n);
    return 0;
}
