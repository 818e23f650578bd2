/* A tiny TAP producer (https://testanything.org), as automake's tap-driver.sh
 * reads it.  The plan is printed last ("1..N" after the cases, which TAP
 * allows) because cases run in forked children whose number is only known
 * once they have reported.
 *
 * A forked child sets tap_state.child_fd: its results then go, unnumbered,
 * down that pipe, and the parent numbers them with tap_replay().  One line a
 * record: "1 description", "0 description" or "#diagnostic" (harness.c adds
 * its own lines, starting with other letters). */
#ifndef SM_TAP_H
#define SM_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* One state for the whole program: harness.c holds the definition
 * (TAP_STATE_DEFINE); a static here would give each file its own counter. */
struct tap_state {
    int count, failed;
    int child_fd; /* -1 in the parent */
};
extern struct tap_state tap_state;
#define TAP_STATE_DEFINE struct tap_state tap_state = {0, 0, -1};

/* Descriptions and diagnostics must stay on one line each. */
static inline void tap_flatten_(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
}

static inline void tap_emit_(int ok, const char *desc)
{
    tap_state.count++;
    if (!ok)
        tap_state.failed++;
    printf("%sok %d - %s\n", ok ? "" : "not ", tap_state.count, desc);
    fflush(stdout);
}

static inline void tap_write_child_(const char *line)
{
    size_t len = strlen(line), off = 0;
    ssize_t n;

    while (off < len && (n = write(tap_state.child_fd, line + off, len - off)) > 0)
        off += (size_t)n;
}

__attribute__((format(printf, 1, 0))) static inline void tap_vdiag(const char *fmt, va_list ap)
{
    char buf[1024];

    vsnprintf(buf + 1, sizeof(buf) - 2, fmt, ap);
    tap_flatten_(buf + 1);
    if (tap_state.child_fd >= 0) {
        buf[0] = '#';
        strcat(buf, "\n");
        tap_write_child_(buf);
    } else {
        printf("# %s\n", buf + 1);
        fflush(stdout);
    }
}

__attribute__((format(printf, 1, 2))) static inline void tap_diag(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    tap_vdiag(fmt, ap);
    va_end(ap);
}

/* Record one case; returns ok so that callers can add diagnostics. */
__attribute__((format(printf, 2, 3))) static inline int tap_ok(int ok, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf + 2, sizeof(buf) - 3, fmt, ap);
    va_end(ap);
    tap_flatten_(buf + 2);
    if (tap_state.child_fd >= 0) {
        buf[0] = ok ? '1' : '0';
        buf[1] = ' ';
        strcat(buf, "\n");
        tap_write_child_(buf);
    } else {
        tap_emit_(ok, buf + 2);
    }
    return ok;
}

/* Parent side: number and print one record received from a child. */
static inline void tap_replay(const char *line)
{
    if (line[0] == '#') {
        printf("# %s\n", line + 1);
        fflush(stdout);
    } else if ((line[0] == '0' || line[0] == '1') && line[1] == ' ')
        tap_emit_(line[0] == '1', line + 2);
    else
        tap_emit_(0, "garbled report from a child process");
}

/* Print the plan; the exit status for main(). */
static inline int tap_done(void)
{
    if (tap_state.count == 0)
        tap_emit_(0, "no test case ran");
    printf("1..%d\n", tap_state.count);
    fflush(stdout);
    return tap_state.failed ? 1 : 0;
}

#endif
