/* tocsinctl: the analysts' CLI.  Commands arrive with issue #2. */
#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		puts("tocsinctl 0.1");
		return 0;
	}
	fprintf(stderr, "usage: tocsinctl --version\n");
	return 2;
}
