// bench/w5_echo/loadgen.c: the load generator of W5 echo (docs/design/benchmarks-method.md). One thread, epoll
// (level-triggered), non-blocking sockets: C connections in a closed loop, each sending one message of S bytes,
// waiting for all S bytes to come back, checking them byte for byte against what it sent, then sending the next
// (a new pattern for every message). After the warm-up it measures for a fixed window: requests served, their
// round-trip latencies (a log-linear histogram, no allocation per request) and the server's CPU time over that
// window, read from /proc at the window's two edges. Before the C connections, one more connection echoes one
// message and closes, so that the measured server has seen a connection come and go, as any server that has run
// for a while has (a fresh CPython server pays an mmap/mremap/munmap per read until it has: docs/benchmarks.md's
// footnote); `--fresh` leaves that out.
//
//     loadgen [--fresh] HOST PORT CONNS SIZE WARMUP_S MEASURE_S SERVER_PID [RUNTIME [WORKLOAD]]
//
// Prints one line (bench/run.py parses it):
//     RESULT workload=w5_echo_64 runtime=tokio n=<requests in the window> ns_per_op=<server CPU ns per request>
//            rps=... mb_s=... p50_us=... p99_us=... p999_us=... server_cpu_pct=... server_sys_pct=...
//            tick_ns_per_op=... loadgen_cpu_pct=... threads=... n_all=...
// Server CPU time is the sum over the server's threads of /proc/PID/task/TID/schedstat's first field (the
// scheduler's run time, ns); tick_ns_per_op is the same from /proc/PID/stat's utime+stime (10 ms clock ticks), a
// cross-check that also gives the system share. SERVER_PID 0 measures no server (ns_per_op=nan).
// Exits 1 on a mismatch, a closed connection, or no progress for 10 s.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

// ------------------------------------------------------------------------------------- histogram

// Log-linear: values below 64 ns exactly, above that 64 sub-buckets per power of two (1.6% wide), up to 2^41 ns.
enum {
    SUB_BITS = 6,
    SUB = 1 << SUB_BITS,
    MAX_EXP = 41,
    BUCKETS = (MAX_EXP - SUB_BITS + 1) * SUB
};
static uint64_t hist[BUCKETS];
static uint64_t hist_count;

static int bucket_of(uint64_t ns) {
    if (ns >= (UINT64_C(1) << MAX_EXP)) ns = (UINT64_C(1) << MAX_EXP) - 1;
    if (ns < SUB) return (int)ns;
    int e = 63 - __builtin_clzll(ns);  // e >= SUB_BITS
    return (e - SUB_BITS + 1) * SUB + (int)((ns >> (e - SUB_BITS)) & (SUB - 1));
}

// The middle of a bucket, in ns.
static double bucket_value(int b) {
    if (b < SUB) return b;
    int e = b / SUB + SUB_BITS - 1;
    double width = (double)(UINT64_C(1) << (e - SUB_BITS));
    return (double)(SUB + b % SUB) * width + width / 2;
}

static double percentile_us(double p) {
    if (hist_count == 0) return NAN;
    uint64_t target = (uint64_t)ceil(p * (double)hist_count);
    if (target == 0) target = 1;
    uint64_t seen = 0;
    for (int b = 0; b < BUCKETS; ++b) {
        seen += hist[b];
        if (seen >= target) return bucket_value(b) / 1e3;
    }
    return NAN;
}

// ----------------------------------------------------------------------------------- server CPU

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct cpu {
    uint64_t sched_ns;      // sum of the threads' run time (schedstat), ns
    uint64_t utime, stime;  // /proc/PID/stat, clock ticks (all threads, the exited ones too)
    int threads;
    int ok;
};

static struct cpu read_server_cpu(int pid) {
    struct cpu c = {0, 0, 0, 0, 0};
    if (pid <= 0) return c;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR* dir = opendir(path);
    if (!dir) return c;
    struct dirent* d;
    while ((d = readdir(dir)) != NULL) {
        if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
        char file[320];
        snprintf(file, sizeof file, "/proc/%d/task/%s/schedstat", pid, d->d_name);
        FILE* f = fopen(file, "r");
        if (!f) continue;  // the thread just exited
        unsigned long long run = 0;
        if (fscanf(f, "%llu", &run) == 1) {
            c.sched_ns += run;
            ++c.threads;
        }
        fclose(f);
    }
    closedir(dir);
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE* f = fopen(path, "r");
    if (!f) return c;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char* p = strrchr(buf, ')');  // the command name may hold spaces; the fields follow its ')'
    if (!p) return c;
    // Fields after ')': 3 state, 4 ppid, ... 14 utime, 15 stime.
    unsigned long long ut = 0, st = 0;
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) return c;
    c.utime = ut;
    c.stime = st;
    c.ok = c.threads > 0;
    return c;
}

static double self_cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

// ---------------------------------------------------------------------------------- connections

struct conn {
    int fd;
    int index;
    int want_out;     // EPOLLOUT registered: the current message is partly sent
    uint64_t msg;     // messages started on this connection
    size_t sent;      // bytes of the current message sent
    size_t received;  // ... and echoed back
    uint64_t start;   // when the current message was started, ns
    unsigned char* out;
    unsigned char* in;
};

static size_t size;
static int epfd;

static void die(const char* what) {
    fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
    exit(1);
}

// The content of message `msg` on connection `index`: 8-byte words of a counter pattern, new for every message.
static void fill(struct conn* c) {
    uint64_t seed = ((uint64_t)c->index << 40) ^ c->msg;
    uint64_t word = seed * UINT64_C(0x9E3779B97F4A7C15);
    size_t i = 0;
    for (; i + 8 <= size; i += 8) {
        memcpy(c->out + i, &word, 8);
        word += UINT64_C(0x2545F4914F6CDD1D);
    }
    if (i < size) memcpy(c->out + i, &word, size - i);
}

static void set_out(struct conn* c, int on) {
    if (c->want_out == on) return;
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) die("epoll_ctl");
    c->want_out = on;
}

static void send_some(struct conn* c) {
    while (c->sent < size) {
        ssize_t n = send(c->fd, c->out + c->sent, size - c->sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN) break;
            die("send");
        }
        c->sent += (size_t)n;
    }
    set_out(c, c->sent < size);
}

static void start_message(struct conn* c, uint64_t t) {
    ++c->msg;
    fill(c);
    c->sent = 0;
    c->received = 0;
    c->start = t;
    send_some(c);
}

static int connect_to(const char* host, int port) {
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "loadgen: %s: not an IPv4 address\n", host);
        exit(1);
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    if (connect(fd, (struct sockaddr*)&addr, sizeof addr) != 0) die("connect");
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) die("TCP_NODELAY");
    if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0) die("O_NONBLOCK");
    return fd;
}

// ----------------------------------------------------------------------------------------- main

// One connection that echoes one message, checks it and closes (blocking).
static void prelude(const char* host, int port) {
    struct conn c = {.index = -1, .msg = 1};
    c.out = malloc(size);
    c.in = malloc(size);
    if (!c.out || !c.in) die("malloc");
    c.fd = connect_to(host, port);
    fcntl(c.fd, F_SETFL, 0);  // back to blocking
    fill(&c);
    if (send(c.fd, c.out, size, MSG_NOSIGNAL) != (ssize_t)size) die("send (prelude)");
    for (size_t got = 0; got < size;) {
        ssize_t n = recv(c.fd, c.in + got, size - got, 0);
        if (n <= 0) die("recv (prelude)");
        got += (size_t)n;
    }
    if (memcmp(c.in, c.out, size) != 0) {
        fprintf(stderr, "loadgen: the prelude's echo differs from what was sent\n");
        exit(1);
    }
    close(c.fd);
    free(c.out);
    free(c.in);
}

int main(int argc, char** argv) {
    int fresh = argc > 1 && strcmp(argv[1], "--fresh") == 0;
    if (fresh) {
        --argc;
        ++argv;
    }
    if (argc < 8) {
        fprintf(stderr,
                "usage: loadgen [--fresh] HOST PORT CONNS SIZE WARMUP_S MEASURE_S SERVER_PID [RUNTIME [WORKLOAD]]\n");
        return 2;
    }
    const char* host = argv[1];
    int port = atoi(argv[2]);
    int nconns = atoi(argv[3]);
    size = (size_t)atol(argv[4]);
    double warmup_s = atof(argv[5]);
    double measure_s = atof(argv[6]);
    int pid = atoi(argv[7]);
    const char* runtime = argc > 8 ? argv[8] : "?";
    char workload_buf[64];
    const char* workload = argc > 9 ? argv[9] : NULL;
    if (!workload) {
        if (size % 1024 == 0)
            snprintf(workload_buf, sizeof workload_buf, "w5_echo_%zuk", size / 1024);
        else
            snprintf(workload_buf, sizeof workload_buf, "w5_echo_%zu", size);
        workload = workload_buf;
    }
    if (nconns < 1 || size < 1 || measure_s <= 0 || warmup_s < 0) {
        fprintf(stderr, "loadgen: bad arguments\n");
        return 2;
    }

    if (!fresh) prelude(host, port);
    epfd = epoll_create1(0);
    if (epfd < 0) die("epoll_create1");
    struct conn* conns = calloc((size_t)nconns, sizeof *conns);
    if (!conns) die("calloc");
    for (int i = 0; i < nconns; ++i) {
        struct conn* c = &conns[i];
        c->index = i;
        c->fd = connect_to(host, port);
        c->out = malloc(size);
        c->in = malloc(size);
        if (!c->out || !c->in) die("malloc");
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) die("epoll_ctl");
    }

    uint64_t t0 = now_ns();
    uint64_t t_measure = t0 + (uint64_t)(warmup_s * 1e9);
    uint64_t t_end = t_measure + (uint64_t)(measure_s * 1e9);
    for (int i = 0; i < nconns; ++i) start_message(&conns[i], t0);

    int measuring = 0;
    uint64_t window_start = 0, window_end = 0, last_progress = t0;
    uint64_t served = 0, served_all = 0;
    struct cpu cpu0 = {0, 0, 0, 0, 0}, cpu1 = {0, 0, 0, 0, 0};
    double self0 = 0, self1 = 0;
    struct epoll_event events[256];

    for (;;) {
        uint64_t t = now_ns();
        if (!measuring && t >= t_measure) {
            cpu0 = read_server_cpu(pid);
            self0 = self_cpu_s();
            window_start = now_ns();
            t_end = window_start + (uint64_t)(measure_s * 1e9);
            memset(hist, 0, sizeof hist);
            hist_count = 0;
            served = 0;
            measuring = 1;
        } else if (measuring && t >= t_end) {
            window_end = t;
            cpu1 = read_server_cpu(pid);
            self1 = self_cpu_s();
            break;
        }
        if (t - last_progress > UINT64_C(10000000000)) {
            fprintf(stderr, "loadgen: no request completed for 10 s (%llu served)\n", (unsigned long long)served_all);
            return 1;
        }
        uint64_t edge = measuring ? t_end : t_measure;
        int timeout_ms = edge > t ? (int)((edge - t + 999999) / 1000000) : 0;
        if (timeout_ms > 1000) timeout_ms = 1000;
        int n = epoll_wait(epfd, events, (int)(sizeof events / sizeof events[0]), timeout_ms);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int k = 0; k < n; ++k) {
            struct conn* c = events[k].data.ptr;
            if (events[k].events & EPOLLOUT) send_some(c);
            if (!(events[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
            for (;;) {
                ssize_t got = recv(c->fd, c->in + c->received, size - c->received, 0);
                if (got < 0) {
                    if (errno == EAGAIN) break;
                    die("recv");
                }
                if (got == 0) {
                    fprintf(stderr, "loadgen: connection %d closed by the server\n", c->index);
                    return 1;
                }
                if (c->received + (size_t)got > c->sent ||
                    memcmp(c->in + c->received, c->out + c->received, (size_t)got) != 0) {
                    fprintf(stderr, "loadgen: connection %d, message %llu: echo differs from what was sent\n",
                            c->index, (unsigned long long)c->msg);
                    return 1;
                }
                c->received += (size_t)got;
                if (c->received < size) continue;
                uint64_t done = now_ns();
                ++served_all;
                last_progress = done;
                if (measuring && done < t_end) {
                    ++hist[bucket_of(done - c->start)];
                    ++hist_count;
                    ++served;
                }
                start_message(c, done);
                break;  // level-triggered: the next echo comes with a later event
            }
        }
    }

    double window = (double)(window_end - window_start) / 1e9;
    double cpu_ns = NAN, tick_ns = NAN, cpu_pct = NAN, sys_pct = NAN;
    if (cpu0.ok && cpu1.ok && served > 0) {
        cpu_ns = (double)(cpu1.sched_ns - cpu0.sched_ns);
        double hz = (double)sysconf(_SC_CLK_TCK);
        double ticks = (double)((cpu1.utime + cpu1.stime) - (cpu0.utime + cpu0.stime));
        tick_ns = ticks / hz * 1e9 / (double)served;
        if (ticks > 0) sys_pct = 100.0 * (double)(cpu1.stime - cpu0.stime) / ticks;
        cpu_pct = 100.0 * cpu_ns / 1e9 / window;
        cpu_ns /= (double)served;
    } else if (pid > 0) {
        fprintf(stderr, "loadgen: cannot read the server's CPU time from /proc/%d\n", pid);
        return 1;
    }
    double rps = (double)served / window;
    printf("RESULT workload=%s runtime=%s n=%llu ns_per_op=%.1f rps=%.0f mb_s=%.2f p50_us=%.1f p99_us=%.1f "
           "p999_us=%.1f server_cpu_pct=%.1f server_sys_pct=%.1f tick_ns_per_op=%.1f loadgen_cpu_pct=%.1f "
           "threads=%d n_all=%llu conns=%d size=%zu window_s=%.3f\n",
           workload, runtime, (unsigned long long)served, cpu_ns, rps, rps * (double)size / 1e6, percentile_us(0.50),
           percentile_us(0.99), percentile_us(0.999), cpu_pct, sys_pct, tick_ns,
           100.0 * (self1 - self0) / window, cpu1.threads, (unsigned long long)served_all, nconns, size, window);
    return 0;
}
