/* Replay driver for libFuzzer targets without libFuzzer (Knot DNS
 * tests-fuzz/main.c): runs LLVMFuzzerTestOneInput on every file named on the
 * command line, so `make check` replays corpora and repros with any compiler,
 * and under ASan/UBSan in `make asan`. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	int n = 0;

	for (int i = 1; i < argc; i++) {
		FILE    *fp = fopen(argv[i], "rb");
		uint8_t *buf;
		long     len;

		if (fp == NULL) {
			perror(argv[i]);
			return 1;
		}
		if (fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 ||
		    fseek(fp, 0, SEEK_SET) != 0) {
			perror(argv[i]);
			fclose(fp);
			return 1;
		}
		buf = malloc((size_t)len + 1);
		if (buf == NULL ||
		    fread(buf, 1, (size_t)len, fp) != (size_t)len) {
			fprintf(stderr, "%s: read failed\n", argv[i]);
			free(buf);
			fclose(fp);
			return 1;
		}
		fclose(fp);
		LLVMFuzzerTestOneInput(buf, (size_t)len);
		free(buf);
		n++;
	}
	printf("replayed %d inputs\n", n);
	return 0;
}
