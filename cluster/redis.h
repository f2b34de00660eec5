/*
 * redis.h - one connection to Redis, driven by the daemon's own poll loop
 * (hiredis's asynchronous API; docs/CLUSTER.md).
 *
 * The daemon never waits for Redis: a link connects in the background,
 * authenticates (AUTH [USER] PASSWORD), selects its database, and then
 * says it is up; commands are queued with a callback that receives the
 * reply, or NULL when the link went down before it came. A link that
 * cannot connect, or whose oldest command has gone unanswered too long, is
 * dropped and tried again with backoff (0.1 s doubling to 5 s). Redis
 * Sentinel: with sentinels given instead of a host, the link first asks
 * them (one after the other) where the master of that name is, and asks
 * again after every drop, so a failover is followed without anyone's help.
 */
#ifndef MXG_REDIS_H
#define MXG_REDIS_H

#include <stddef.h>
#include <stdint.h>

#define REDIS_SENTINELS_MAX 8

/* Where Redis is: "redis://[USER:PASSWORD@]HOST:PORT[/DB]" or "sentinel://HOST:PORT[,HOST:PORT...]/MASTER". */
struct redis_url {
	char host[256];		/* redis://: an address or a name */
	uint16_t port;
	int db;
	char user[128], password[256];	/* "" if none */
	int nsentinels;		/* > 0: sentinel:// */
	char shost[REDIS_SENTINELS_MAX][256];
	uint16_t sport[REDIS_SENTINELS_MAX];
	char master[128];
};

/* 0, or -1 with a message in err (what is wrong and where). */
int redis_url_parse(const char *text, struct redis_url *u, char *err, size_t errlen);

struct rlink;
struct redisReply;

/* A command's reply (NULL: the link went down first); r is valid during the call only. */
typedef void (*rlink_reply_fn)(void *arg, struct redisReply *r);
/* The link is up (authenticated, database selected), or went down (up 0). */
typedef void (*rlink_state_fn)(void *arg, int up);

/*
 * A link to u (copied), named for messages; reply_timeout_ms: how long the
 * oldest command may wait for its reply before the link is dropped (a
 * blocking command's own timeout must be less).
 */
struct rlink *rlink_new(const struct redis_url *u, const char *name, int reply_timeout_ms, rlink_state_fn fn,
    void *arg);
void rlink_free(struct rlink *l);

int rlink_up(const struct rlink *l);
/* The replicas the master had when the link came up (its ROLE). */
int rlink_replicas(const struct rlink *l);
/* "up", "connecting", "down (reason)" */
const char *rlink_state_text(const struct rlink *l);
/* Where it is connected (or trying): "HOST:PORT". */
const char *rlink_where(const struct rlink *l);

/* Queue a command (argv form; binary-safe; fn NULL: its reply is not wanted). -1 if the link is not up (fn is not called then). */
int rlink_command(struct rlink *l, rlink_reply_fn fn, void *arg, int argc, const char **argv, const size_t *lens);

/* The socket to poll (at most one; 0 if none now), and when rlink_process must run at the latest. */
struct pollfd;
int rlink_pollfd(struct rlink *l, struct pollfd *pfd);
int64_t rlink_next_ms(const struct rlink *l);
/* Read and write what the socket is ready for (revents of rlink_pollfd's entry, or 0), connect, time out. */
void rlink_process(struct rlink *l, short revents, int64_t now_ms);

#endif
