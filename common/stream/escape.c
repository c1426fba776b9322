/* escape.c: input quoted in a message, made safe for a terminal (winnow.h). */
#include <stdio.h>

#include "winnow.h"

/* A byte written as \xHH: the C0 controls, DEL, and the C1 controls (U+0080..U+009F, which some
 * terminals obey as escape sequences) as their two UTF-8 bytes. */
static int control_at(const unsigned char *s, size_t i, size_t n)
{
	if (s[i] < 0x20 || s[i] == 0x7f)
		return 1;
	return s[i] == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f ? 2 : 0;
}

size_t wnw_escape(char *dst, size_t cap, const char *src, size_t n)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0;
	if (cap == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int c = control_at(s, i, n);
		char esc[12];
		size_t len;
		if (c == 0) {
			esc[0] = (char)s[i];
			len = 1;
		} else {
			len = (size_t)snprintf(esc, sizeof esc, c == 1 ? "\\x%02x" : "\\x%02x\\x%02x", s[i],
					       c == 2 ? s[i + 1] : 0);
			i += (size_t)c - 1;
		}
		if (o + len + 4 > cap) { /* room for "..." and the terminating NUL */
			snprintf(dst + o, cap - o, "...");
			return o + 3 < cap ? o + 3 : cap - 1;
		}
		for (size_t k = 0; k < len; k++)
			dst[o++] = esc[k];
	}
	dst[o] = '\0';
	return o;
}
