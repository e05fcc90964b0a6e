/*
 * lib.c - the scraps of libc the test guest needs: mem*, str* and a
 * small printf that writes to the serial port.
 *
 * gcc may emit calls to memset/memcpy itself, even freestanding, so
 * these keep their standard names.
 */
#include "guest.h"

void *memset(void *s, int c, size_t n)
{
	u8 *p = s;

	while (n--)
		*p++ = (u8)c;
	return s;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (u8)*a - (u8)*b;
}

/* Lines end in "\r\n" on the wire, as a terminal (and the testsuite) expect. */
static void putc_crlf(char c, int *count)
{
	if (c == '\n') {
		serial_putc('\r');
		(*count)++;
	}
	serial_putc(c);
	(*count)++;
}

struct spec {
	bool left, zero;
	int width, prec;	/* prec < 0: none */
};

static void pad(int n, char c, int *count)
{
	while (n-- > 0)
		putc_crlf(c, count);
}

static void put_str(const char *s, const struct spec *sp, int *count)
{
	int len = 0;

	if (!s)
		s = "(null)";
	while (s[len] && (sp->prec < 0 || len < sp->prec))
		len++;
	if (!sp->left)
		pad(sp->width - len, ' ', count);
	for (int i = 0; i < len; i++)
		putc_crlf(s[i], count);
	if (sp->left)
		pad(sp->width - len, ' ', count);
}

static void put_num(u64 v, bool neg, unsigned base, const char *prefix,
		    const struct spec *sp, int *count)
{
	char buf[24];
	int n = 0, plen = (int)strlen(prefix) + neg, digits;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	digits = n;

	if (sp->zero && !sp->left) {
		if (neg)
			putc_crlf('-', count);
		while (*prefix)
			putc_crlf(*prefix++, count);
		pad(sp->width - plen - n, '0', count);
	} else {
		if (!sp->left)
			pad(sp->width - plen - n, ' ', count);
		if (neg)
			putc_crlf('-', count);
		while (*prefix)
			putc_crlf(*prefix++, count);
	}
	while (n)
		putc_crlf(buf[--n], count);
	if (sp->left)
		pad(sp->width - plen - digits, ' ', count);
}

int vprintf(const char *fmt, va_list ap)
{
	int count = 0;

	for (; *fmt; fmt++) {
		struct spec sp = { .prec = -1 };
		int lng = 0;

		if (*fmt != '%') {
			putc_crlf(*fmt, &count);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				sp.left = true;
			else if (*fmt == '0')
				sp.zero = true;
			else
				break;
		}
		if (*fmt == '*') {
			sp.width = va_arg(ap, int);
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			sp.width = sp.width * 10 + *fmt++ - '0';
		if (*fmt == '.') {
			sp.prec = 0;
			fmt++;
			if (*fmt == '*') {
				sp.prec = va_arg(ap, int);
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9')
				sp.prec = sp.prec * 10 + *fmt++ - '0';
		}
		for (; *fmt == 'l' || *fmt == 'z' || *fmt == 'h'; fmt++)
			if (*fmt != 'h')
				lng++;

		switch (*fmt) {
		case 'd':
		case 'i': {
			long long v = lng ? va_arg(ap, long long) : va_arg(ap, int);

			put_num(v < 0 ? -(u64)v : (u64)v, v < 0, 10, "", &sp,
				&count);
			break;
		}
		case 'u':
		case 'x': {
			u64 v = lng ? va_arg(ap, u64) : va_arg(ap, unsigned);

			put_num(v, false, *fmt == 'u' ? 10 : 16, "", &sp, &count);
			break;
		}
		case 'p':
			put_num((uintptr_t)va_arg(ap, void *), false, 16, "0x",
				&sp, &count);
			break;
		case 's':
			put_str(va_arg(ap, const char *), &sp, &count);
			break;
		case 'c':
			putc_crlf((char)va_arg(ap, int), &count);
			break;
		case '%':
			putc_crlf('%', &count);
			break;
		case '\0':
			return count;
		default:	/* not ours: show it rather than guess */
			putc_crlf('%', &count);
			putc_crlf(*fmt, &count);
		}
	}
	return count;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}
