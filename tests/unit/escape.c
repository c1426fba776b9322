/* Unit test: wnw_escape writes control bytes (C0, DEL, C1 as UTF-8) as \xHH, keeps the rest (UTF-8
 * text included), and cuts with "..." what does not fit, always NUL-terminated. */
#include <string.h>

#include "unit.h"
#include "winnow.h"

int main(void)
{
	char out[64];
	size_t n = wnw_escape(out, sizeof out, "1\0junk", 6);
	CHECK(strcmp(out, "1\\x00junk") == 0 && n == 9, "a NUL is shown, not an end: %s", out);
	wnw_escape(out, sizeof out, "\x1b[31m\t\x7f", 7);
	CHECK(strcmp(out, "\\x1b[31m\\x09\\x7f") == 0, "ESC, tab and DEL escaped: %s", out);
	wnw_escape(out, sizeof out, "caf\xc3\xa9 \xc2\x9b" "1m", 10);
	CHECK(strcmp(out, "caf\xc3\xa9 \\xc2\\x9b1m") == 0, "UTF-8 kept, the C1 CSI (U+009B) escaped: %s", out);
	char small[8];
	n = wnw_escape(small, sizeof small, "abcdefghij", 10);
	CHECK(strcmp(small, "abcd...") == 0 && n == 7, "cut with ... within the buffer: %s", small);
	n = wnw_escape(small, sizeof small, "\x01\x02\x03", 3);
	CHECK(strcmp(small, "\\x01...") == 0 && n == 7, "an escape that does not fit is not split: %s", small);
	CHECK(wnw_escape(out, sizeof out, "", 0) == 0 && out[0] == '\0', "empty input, empty string");
	return unit_failed;
}
