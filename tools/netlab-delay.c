/*
 * netlab-delay.c — the link delay tools/netlab uses on kernels without the
 * netem qdisc (tc's usual way to delay packets; some kernels, such as
 * minimal VM kernels, leave it out).
 *
 *   lsgd-netlab-delay --queue N --delay MS [--jitter MS] [--loss PCT] [--seed S]
 *
 * It runs inside one emulated host's network namespace, where tools/netlab
 * sends every packet arriving over the host's link to NFQUEUE N (iptables
 * PREROUTING: held on arrival, a packet no longer counts against its
 * sender's TCP small-queue budget, as it would if held on the way out).  Each
 * packet is held DELAY ± JITTER ms (uniform), released in the order it came
 * (a link does not reorder: a packet leaves no earlier than the one before
 * it), and a fraction LOSS % of packets, drawn from SEED, is dropped.  It
 * prints "ready" once the queue is bound, and runs until SIGTERM or SIGINT,
 * then lets the packets it still holds through.
 *
 * It speaks nfnetlink_queue directly (no libnetfilter_queue): bind the
 * queue, ask for packet metadata only, then read packet ids and answer each
 * with a verdict, ACCEPT when its time has come or DROP.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#define HELD_MAX 65536 /* packets held at once; also the kernel queue's length */

typedef struct {
    uint32_t id;
    int64_t due_ns;
} held_packet;

typedef struct {
    int fd;
    uint16_t queue;
    uint32_t seq;
    int64_t delay_ns, jitter_ns;
    double loss; /* fraction of packets dropped */
    uint64_t rng;
    held_packet *held; /* FIFO ring of HELD_MAX */
    size_t head, count;
    int64_t last_due_ns;
} link_delay;

static volatile sig_atomic_t stopping;

static void on_signal(int sig) { (void)sig; stopping = 1; }

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* splitmix64: a uniform draw in [0, 1) from the link's own stream */
static double uniform(link_delay *l)
{
    uint64_t z = (l->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

/* ---- nfnetlink messages ---- */

typedef struct {
    char bytes[256];
    size_t len;
} message;

static void message_start(message *m, link_delay *l, uint8_t type, uint16_t flags)
{
    memset(m, 0, sizeof *m);
    struct nlmsghdr *h = (struct nlmsghdr *)m->bytes;
    h->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | type;
    h->nlmsg_flags = NLM_F_REQUEST | flags;
    h->nlmsg_seq = ++l->seq;
    struct nfgenmsg *g = (struct nfgenmsg *)NLMSG_DATA(h);
    g->nfgen_family = AF_UNSPEC;
    g->version = NFNETLINK_V0;
    g->res_id = htons(l->queue);
    m->len = NLMSG_LENGTH(sizeof *g);
}

static void message_attr(message *m, uint16_t type, const void *data, size_t size)
{
    struct nlattr *a = (struct nlattr *)(m->bytes + NLMSG_ALIGN(m->len));
    a->nla_type = type;
    a->nla_len = (uint16_t)(NLA_HDRLEN + size);
    memcpy((char *)a + NLA_HDRLEN, data, size);
    m->len = NLMSG_ALIGN(m->len) + NLA_ALIGN(a->nla_len);
}

static int message_send(link_delay *l, message *m)
{
    ((struct nlmsghdr *)m->bytes)->nlmsg_len = (uint32_t)m->len;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    return sendto(l->fd, m->bytes, m->len, 0, (struct sockaddr *)&kernel, sizeof kernel) ==
                   (ssize_t)m->len
               ? 0
               : -1;
}

/* A configuration message, sent with NLM_F_ACK; returns the kernel's
 * answer (0 or -errno). */
static int configure(link_delay *l, message *m)
{
    if (message_send(l, m) != 0)
        return -errno;
    char answer[4096];
    for (;;) {
        ssize_t n = recv(l->fd, answer, sizeof answer, 0);
        if (n < 0)
            return errno == EINTR ? -EINTR : -errno;
        for (struct nlmsghdr *h = (struct nlmsghdr *)answer; NLMSG_OK(h, (size_t)n);
             h = NLMSG_NEXT(h, n))
            if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_seq == l->seq)
                return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
    }
}

static int bind_queue(link_delay *l, const char **what)
{
    message m;
    struct nfqnl_msg_config_cmd bind = {.command = NFQNL_CFG_CMD_BIND, .pf = htons(AF_INET)};
    message_start(&m, l, NFQNL_MSG_CONFIG, NLM_F_ACK);
    message_attr(&m, NFQA_CFG_CMD, &bind, sizeof bind);
    int rc = configure(l, &m);
    if (rc) {
        *what = "bind the queue";
        return rc;
    }
    /* metadata only: the packet id is all a verdict needs */
    struct nfqnl_msg_config_params params = {.copy_range = htonl(0), .copy_mode = NFQNL_COPY_META};
    uint32_t maxlen = htonl(HELD_MAX), gso = htonl(NFQA_CFG_F_GSO);
    message_start(&m, l, NFQNL_MSG_CONFIG, NLM_F_ACK);
    message_attr(&m, NFQA_CFG_PARAMS, &params, sizeof params);
    message_attr(&m, NFQA_CFG_QUEUE_MAXLEN, &maxlen, sizeof maxlen);
    message_attr(&m, NFQA_CFG_MASK, &gso, sizeof gso);
    message_attr(&m, NFQA_CFG_FLAGS, &gso, sizeof gso); /* whole GSO packets, not segments */
    rc = configure(l, &m);
    if (rc)
        *what = "set the queue's parameters";
    return rc;
}

static int verdict(link_delay *l, uint32_t id, uint32_t what)
{
    message m;
    struct nfqnl_msg_verdict_hdr v = {.verdict = htonl(what), .id = htonl(id)};
    message_start(&m, l, NFQNL_MSG_VERDICT, 0);
    message_attr(&m, NFQA_VERDICT_HDR, &v, sizeof v);
    return message_send(l, &m);
}

/* ---- the link ---- */

static void hold(link_delay *l, uint32_t id)
{
    if (l->loss > 0 && uniform(l) < l->loss) {
        verdict(l, id, NF_DROP);
        return;
    }
    int64_t delay = l->delay_ns;
    if (l->jitter_ns > 0)
        delay += (int64_t)((2 * uniform(l) - 1) * (double)l->jitter_ns);
    int64_t due = now_ns() + (delay > 0 ? delay : 0);
    if (due < l->last_due_ns) /* no overtaking */
        due = l->last_due_ns;
    l->last_due_ns = due;
    if (l->count == HELD_MAX) { /* cannot happen with the kernel's queue as long as ours */
        verdict(l, id, NF_ACCEPT);
        return;
    }
    l->held[(l->head + l->count++) % HELD_MAX] = (held_packet){id, due};
}

/* Releases every held packet whose time has come (all of them when
 * everything is set); returns ms until the next one is due, or -1. */
static int release(link_delay *l, int everything)
{
    int64_t now = now_ns();
    while (l->count) {
        held_packet *p = &l->held[l->head];
        if (!everything && p->due_ns > now)
            return (int)((p->due_ns - now + 999999) / 1000000);
        verdict(l, p->id, NF_ACCEPT);
        l->head = (l->head + 1) % HELD_MAX;
        l->count--;
    }
    return -1;
}

static void receive(link_delay *l)
{
    static char buffer[1 << 16];
    for (;;) {
        ssize_t n = recv(l->fd, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n <= 0)
            return; /* EAGAIN, or ENOBUFS: packets the kernel dropped, as a full link would */
        for (struct nlmsghdr *h = (struct nlmsghdr *)buffer; NLMSG_OK(h, (size_t)n);
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET))
                continue;
            int left = (int)h->nlmsg_len - NLMSG_LENGTH(sizeof(struct nfgenmsg));
            struct nlattr *a = (struct nlattr *)((char *)NLMSG_DATA(h) + NLMSG_ALIGN(sizeof(struct nfgenmsg)));
            for (; left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= left;
                 left -= NLA_ALIGN(a->nla_len), a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len))) {
                if ((a->nla_type & NLA_TYPE_MASK) == NFQA_PACKET_HDR &&
                    a->nla_len >= NLA_HDRLEN + sizeof(struct nfqnl_msg_packet_hdr)) {
                    struct nfqnl_msg_packet_hdr ph;
                    memcpy(&ph, (char *)a + NLA_HDRLEN, sizeof ph);
                    hold(l, ntohl(ph.packet_id));
                    break;
                }
            }
        }
    }
}

/* ---- command line ---- */

static int parse_number(const char *flag, const char *text, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = text ? strtod(text, &end) : 0;
    if (!text || errno || end == text || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "lsgd-netlab-delay: %s: '%s' is not a number from %g to %g\n", flag,
                text ? text : "", lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, link_delay *l)
{
    double queue = -1, delay = -1, jitter = 0, loss = 0, seed = 1;
    for (int i = 1; i < argc; i += 2) {
        const char *flag = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = !strcmp(flag, "--queue")    ? parse_number(flag, value, 0, 65535, &queue)
                 : !strcmp(flag, "--delay")  ? parse_number(flag, value, 0, 60000, &delay)
                 : !strcmp(flag, "--jitter") ? parse_number(flag, value, 0, 60000, &jitter)
                 : !strcmp(flag, "--loss")   ? parse_number(flag, value, 0, 100, &loss)
                 : !strcmp(flag, "--seed")   ? parse_number(flag, value, 0, 4294967295.0, &seed)
                                             : (fprintf(stderr, "lsgd-netlab-delay: unknown option '%s'\n", flag), -1);
        if (rc)
            return -1;
    }
    if (queue < 0 || delay < 0 || queue != (uint16_t)queue) {
        fprintf(stderr, "usage: lsgd-netlab-delay --queue N --delay MS [--jitter MS] [--loss PCT] [--seed S]\n");
        return -1;
    }
    l->queue = (uint16_t)queue;
    l->delay_ns = (int64_t)(delay * 1e6);
    l->jitter_ns = (int64_t)(jitter * 1e6);
    l->loss = loss / 100;
    l->rng = (uint64_t)seed;
    return 0;
}

int main(int argc, char **argv)
{
    link_delay l = {0};
    if (parse_args(argc, argv, &l))
        return 2;
    if (!(l.held = malloc(HELD_MAX * sizeof *l.held))) {
        fprintf(stderr, "lsgd-netlab-delay: out of memory\n");
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    l.fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    struct sockaddr_nl self = {.nl_family = AF_NETLINK};
    const char *what = "open a netfilter netlink socket";
    int rc = l.fd < 0 || bind(l.fd, (struct sockaddr *)&self, sizeof self) ? -errno : 0;
    if (!rc) {
        int size = 8 << 20, one = 1;
        setsockopt(l.fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
        setsockopt(l.fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);
        rc = bind_queue(&l, &what);
    }
    if (rc) {
        fprintf(stderr, "lsgd-netlab-delay: cannot %s (NFQUEUE %u): %s (needs root and a kernel with "
                        "CONFIG_NETFILTER_NETLINK_QUEUE)\n", what, l.queue, strerror(-rc));
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    struct pollfd p = {.fd = l.fd, .events = POLLIN};
    while (!stopping) {
        int wait_ms = release(&l, 0);
        if (poll(&p, 1, wait_ms) > 0)
            receive(&l);
    }
    release(&l, 1);
    close(l.fd);
    free(l.held);
    return 0;
}
