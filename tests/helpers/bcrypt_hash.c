/*
 * bcrypt_hash - prints the bcrypt hash of a password, for test web configs:
 *   bcrypt_hash PASSWORD [COST]     (cost 10 by default)
 */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd = { 0 };

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: bcrypt_hash PASSWORD [COST]\n");
		return 2;
	}
	unsigned long cost = argc == 3 ? strtoul(argv[2], NULL, 10) : 10;
	const char *hash = crypt_gensalt_rn("$2b$", cost, NULL, 0, salt, sizeof salt)
			       ? crypt_r(argv[1], salt, &cd)
			       : NULL;
	if (hash == NULL || hash[0] == '*') {
		fprintf(stderr, "bcrypt_hash: cannot hash at cost %lu\n", cost);
		return 1;
	}
	puts(hash);
	return 0;
}
