/* tocsind: the daemon.  The event loop arrives with the delivery work
 * (issue #4); for now it only reports its version. */
#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		puts("tocsind 0.1");
		return 0;
	}
	fprintf(stderr, "tocsind: not yet able to run (see issue #4)\n");
	return 1;
}
