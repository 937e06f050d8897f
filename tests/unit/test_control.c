/* Tests for the control socket: requests answered now and later, identity
 * from SO_PEERCRED, users outside the analysts' group refused, protocol
 * version and garbage refused, "not running" reported by the client.  The
 * server's loop runs in its own thread; clients are this thread or forked
 * children that switch to the "nobody" account (when run as root). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tocsin/control.h"
#include "tocsin/mem.h"
#include "tocsin/proto.h"

struct server {
	pthread_t          thread;
	uv_loop_t          loop;
	uv_async_t         stop;
	uv_timer_t         later;
	struct tc_control *ctl;
	char               path[108];
	const char        *group;
	int                started; /* 1 ok, -1 failed */
	pthread_mutex_t    mu;
	pthread_cond_t     cv;
	struct tc_control_conn *later_conn;
	uint64_t           later_id;
};

static void
on_later(uv_timer_t *t)
{
	struct server *s = container_of(t, struct server, later);
	json_t        *r = json_pack("{s:s}", "answer", "later");

	tc_control_reply(s->later_conn, s->later_id, true, r, NULL);
	json_decref(r);
}

static void
on_cmd(struct tc_control_conn *conn, const struct tc_control_peer *peer,
    uint64_t id, const char *cmd, json_t *args, void *arg)
{
	struct server *s = arg;

	(void)args;
	if (strcmp(cmd, "whoami") == 0) {
		json_t *r = json_pack("{s:s,s:i}", "user", peer->user, "uid",
		    (int)peer->uid);

		tc_control_reply(conn, id, true, r, NULL);
		json_decref(r);
	} else if (strcmp(cmd, "slow") == 0) {
		/* Answer after a loop iteration, as a DB round trip would. */
		s->later_conn = conn;
		s->later_id = id;
		uv_timer_start(&s->later, on_later, 50, 0);
	} else {
		tc_control_reply(conn, id, false, NULL, "unknown command");
	}
}

static void
on_stop(uv_async_t *a)
{
	struct server *s = container_of(a, struct server, stop);

	tc_control_close(s->ctl, NULL, NULL);
	uv_close((uv_handle_t *)&s->stop, NULL);
	uv_close((uv_handle_t *)&s->later, NULL);
}

static void *
server_main(void *arg)
{
	struct server *s = arg;
	struct tc_err  err;
	int            rc;

	uv_loop_init(&s->loop);
	uv_async_init(&s->loop, &s->stop, on_stop);
	uv_timer_init(&s->loop, &s->later);
	rc = tc_control_start(&s->loop, s->path, s->group, on_cmd, s, &s->ctl,
	    &err);
	if (rc == 0)
		chmod(s->path, 0666); /* let the group check, not the file
				       * mode, decide in these tests */
	pthread_mutex_lock(&s->mu);
	s->started = rc == 0 ? 1 : -1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (rc < 0) {
		uv_close((uv_handle_t *)&s->stop, NULL);
		uv_close((uv_handle_t *)&s->later, NULL);
	}
	uv_run(&s->loop, UV_RUN_DEFAULT);
	rc = uv_loop_close(&s->loop);
	return (void *)(intptr_t)rc;
}

static struct server *
server_start(const char *group)
{
	struct server *s = tc_xcalloc(1, sizeof(*s));

	snprintf(s->path, sizeof(s->path), "/tmp/tocsin-ctl-%d.sock",
	    getpid());
	s->group = group;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
	pthread_mutex_lock(&s->mu);
	while (s->started == 0)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	assert_int_equal(s->started, 1);
	return s;
}

static void
server_stop(struct server *s)
{
	void *ret;

	uv_async_send(&s->stop);
	pthread_join(s->thread, &ret);
	assert_int_equal((intptr_t)ret, 0); /* uv_loop_close() == 0 */
	assert_int_equal(access(s->path, F_OK), -1); /* socket removed */
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

static void
test_same_uid_served_now_and_later(void **state)
{
	struct server           *s = server_start(NULL);
	struct tc_proto_response r;
	struct tc_err            err;
	struct passwd           *pw = getpwuid(getuid());
	(void)state;

	assert_int_equal(tc_control_call(s->path, "whoami", NULL, 5000, &r,
			     &err),
	    0);
	assert_true(r.ok);
	assert_string_equal(json_string_value(json_object_get(r.result,
				"user")),
	    pw->pw_name);
	assert_int_equal(json_integer_value(json_object_get(r.result, "uid")),
	    (int)getuid());
	tc_proto_response_deinit(&r);

	assert_int_equal(tc_control_call(s->path, "slow", NULL, 5000, &r,
			     &err),
	    0);
	assert_true(r.ok);
	assert_string_equal(json_string_value(json_object_get(r.result,
				"answer")),
	    "later");
	tc_proto_response_deinit(&r);

	assert_int_equal(tc_control_call(s->path, "nope", NULL, 5000, &r,
			     &err),
	    0);
	assert_false(r.ok);
	assert_string_equal(r.error, "unknown command");
	tc_proto_response_deinit(&r);
	server_stop(s);
}

/* Fork a client that becomes `user`/`group` and calls whoami.  Exit code:
 * 0 served, 10 refused for the group, 20 anything else. */
static int
child_call(const char *path, const char *user)
{
	pid_t pid = fork();
	int   st;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct passwd           *pw = getpwnam(user);
		struct tc_proto_response r;
		struct tc_err            err;

		if (pw == NULL || setgroups(0, NULL) != 0 ||
		    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
			_exit(30);
		if (tc_control_call(path, "whoami", NULL, 5000, &r, &err) < 0)
			_exit(20);
		if (r.ok)
			_exit(0);
		_exit(r.error && strstr(r.error, "analysts' group") ? 10 : 20);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void
test_outsider_refused_member_served(void **state)
{
	struct server *s;
	struct group  *g;
	(void)state;

	if (getuid() != 0 || getpwnam("nobody") == NULL ||
	    (g = getgrnam("nogroup")) == NULL) {
		print_message("skipped: needs root and the nobody account\n");
		skip();
	}
	/* nobody is not in group "root": refused by the group check. */
	s = server_start("root");
	assert_int_equal(child_call(s->path, "nobody"), 10);
	server_stop(s);
	/* nobody's primary group is nogroup: served. */
	s = server_start("nogroup");
	assert_int_equal(child_call(s->path, "nobody"), 0);
	server_stop(s);
}

static void
test_garbage_and_wrong_version_refused(void **state)
{
	struct server     *s = server_start(NULL);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char               buf[512];
	ssize_t            n;
	int                fd;
	(void)state;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	{
		const char *req = "{\"v\":9,\"id\":1,\"cmd\":\"whoami\"}\n";

		assert_true(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
	}
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "\"ok\":false"));
	assert_non_null(strstr(buf, "version 9"));
	/* ... and the server closed the connection after saying why. */
	assert_int_equal(read(fd, buf, sizeof(buf)), 0);
	close(fd);
	server_stop(s);
}

static void
test_not_running(void **state)
{
	struct tc_proto_response r;
	struct tc_err            err;
	(void)state;

	assert_true(tc_control_call("/tmp/tocsin-no-such.sock", "whoami", NULL,
			1000, &r, &err) < 0);
	assert_non_null(strstr(err.msg, "tocsind is not running"));
}

static void
test_non_socket_path_refused(void **state)
{
	uv_loop_t          loop;
	struct tc_control *ctl;
	struct tc_err      err;
	char               path[64];
	FILE              *fp;
	(void)state;

	snprintf(path, sizeof(path), "/tmp/tocsin-ctl-file-%d", getpid());
	fp = fopen(path, "w");
	fclose(fp);
	uv_loop_init(&loop);
	assert_int_equal(tc_control_start(&loop, path, NULL, on_cmd, NULL, &ctl,
			     &err),
	    TC_EINPUT);
	assert_non_null(strstr(err.msg, "not a socket"));
	assert_int_equal(access(path, F_OK), 0); /* not removed */
	unlink(path);
	assert_int_equal(tc_control_start(&loop, "/tmp/x.sock", "no-such-group",
			     on_cmd, NULL, &ctl, &err),
	    TC_EINPUT);
	assert_non_null(strstr(err.msg, "no-such-group"));
	assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_uid_served_now_and_later),
		cmocka_unit_test(test_outsider_refused_member_served),
		cmocka_unit_test(test_garbage_and_wrong_version_refused),
		cmocka_unit_test(test_not_running),
		cmocka_unit_test(test_non_socket_path_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
