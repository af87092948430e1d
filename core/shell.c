/*
 * The management shell's input side: a line editor fed from the console
 * input path (echo, backspace, Ctrl-U, Ctrl-C, history), the prompt kept
 * whole around other console lines, and a queue of finished lines that the
 * core's loop runs (shell_poll). The commands are in core/shell_cmds.c.
 */
#include "core/shell.h"
#include "core/console.h"
#include "lib/string.h"

#define CTRL(c) ((c) & 0x1F)
#define KEY_ESC 0x1B
#define KEY_DEL 0x7F

enum { ESC_NONE, ESC_START, ESC_CSI, ESC_SS3 };  /* after ESC, ESC [, ESC O */

static struct {
	char line[SHELL_LINE_MAX];      /* being typed, NUL-terminated */
	unsigned len;
	bool focus;                     /* the shell has the keyboard */
	bool shown;                     /* prompt + line are the console's last, open line */
	bool busy;                      /* a command is running: no prompt */
	bool after_cr;                  /* the last byte was '\r' (swallow a '\n') */
	uint8_t esc;                    /* 0, or where in an escape sequence (ESC_*) */
	char queue[SHELL_QUEUE][SHELL_LINE_MAX];
	unsigned q_head, q_count;
	char hist[SHELL_HISTORY][SHELL_LINE_MAX];
	unsigned hist_count, hist_next; /* lines stored; slot the next one goes to */
	unsigned hist_back;             /* 0: a new line; k: the k-th newest shown */
} sh;

/* ------------------------------------------------------------ line editor */

static void prompt_show(void)
{
	console_write("[tessera] " SHELL_PROMPT, sizeof("[tessera] " SHELL_PROMPT) - 1);
	console_write(sh.line, sh.len);
	sh.shown = true;
}

bool shell_prompt_break(void)
{
	if (!sh.shown)
		return false;
	console_write("\n", 1);
	sh.shown = false;
	/* An empty prompt comes back when the operator types again. */
	return sh.len > 0;
}

void shell_prompt_redraw(void)
{
	if (sh.focus && !sh.busy && !sh.shown)
		prompt_show();
}

void shell_focus(bool on)
{
	if (!on)
		shell_prompt_break();
	sh.focus = on;
	sh.esc = ESC_NONE;
	if (on)
		shell_prompt_redraw();
}

/* Echo to the console only while the prompt line is on it. */
static void echo(const char *s, unsigned len)
{
	if (sh.shown)
		console_write(s, len);
}

static void clear_line(void)
{
	sh.len = 0;
	sh.line[0] = '\0';
	sh.hist_back = 0;
}

static void erase_line(void)
{
	for (; sh.len; sh.len--)
		echo("\b \b", 3);
	sh.line[0] = '\0';
}

static void set_line(const char *text)
{
	erase_line();
	sh.len = (unsigned)strnlen(text, SHELL_LINE_MAX - 1);
	memcpy(sh.line, text, sh.len);
	sh.line[sh.len] = '\0';
	echo(sh.line, sh.len);
}

static void insert(uint8_t c)
{
	if (sh.len >= SHELL_LINE_MAX - 1)
		return;                 /* full: the byte is dropped */
	sh.line[sh.len++] = (char)c;
	sh.line[sh.len] = '\0';
	echo((const char *)&c, 1);
}

static void backspace(void)
{
	if (!sh.len)
		return;
	sh.line[--sh.len] = '\0';
	echo("\b \b", 3);
}

static const char *history_get(unsigned back)
{
	return sh.hist[(sh.hist_next + SHELL_HISTORY - back) % SHELL_HISTORY];
}

static void history_add(const char *line)
{
	if (sh.hist_count && strcmp(history_get(1), line) == 0)
		return;
	memcpy(sh.hist[sh.hist_next], line, SHELL_LINE_MAX);
	sh.hist_next = (sh.hist_next + 1) % SHELL_HISTORY;
	if (sh.hist_count < SHELL_HISTORY)
		sh.hist_count++;
}

/* Older (+1) or newer (-1) history line into the editor. */
static void history_move(int dir)
{
	if (dir > 0 && sh.hist_back < sh.hist_count)
		sh.hist_back++;
	else if (dir < 0 && sh.hist_back > 0)
		sh.hist_back--;
	else
		return;
	set_line(sh.hist_back ? history_get(sh.hist_back) : "");
}

static void enter(void)
{
	echo("\n", 1);
	sh.shown = false;
	if (sh.len) {
		history_add(sh.line);
		if (sh.q_count < SHELL_QUEUE) {
			memcpy(sh.queue[(sh.q_head + sh.q_count) % SHELL_QUEUE], sh.line,
			       SHELL_LINE_MAX);
			sh.q_count++;
			console_changed = true;         /* the loop calls shell_poll() */
		} else {
			console_printf("shell: busy; line dropped");
		}
	}
	clear_line();
	if (!sh.q_count)
		shell_prompt_redraw();
}

static void cancel(void)
{
	echo("^C\n", 3);
	sh.shown = false;
	clear_line();
	shell_prompt_redraw();
}

/* Inside an escape sequence: Up and Down (ESC [ A, ESC [ B) walk the
 * history; other sequences are swallowed whole. */
static void escape_key(uint8_t c)
{
	if (sh.esc == ESC_START) {
		sh.esc = c == '[' ? ESC_CSI : c == 'O' ? ESC_SS3 : ESC_NONE;
		return;
	}
	if (sh.esc == ESC_CSI && c >= 0x20 && c <= 0x3F)
		return;                 /* parameter and intermediate bytes */
	if (sh.esc == ESC_CSI && c == 'A')
		history_move(1);
	else if (sh.esc == ESC_CSI && c == 'B')
		history_move(-1);
	sh.esc = ESC_NONE;
}

void shell_input(uint8_t c)
{
	bool crlf = sh.after_cr && c == '\n';

	sh.after_cr = c == '\r';
	if (sh.esc) {
		escape_key(c);
		return;
	}
	if (crlf)
		return;
	if (!sh.shown)
		shell_prompt_redraw();
	switch (c) {
	case '\r':
	case '\n':
		enter();
		break;
	case '\b':
	case KEY_DEL:
		backspace();
		break;
	case CTRL('U'):
		erase_line();
		break;
	case CTRL('C'):
		cancel();
		break;
	case CTRL('P'):
		history_move(1);
		break;
	case CTRL('N'):
		history_move(-1);
		break;
	case KEY_ESC:
		sh.esc = ESC_START;
		break;
	default:
		if (c >= 0x20 && c < KEY_DEL)
			insert(c);
		break;
	}
}

void shell_poll(void)
{
	char line[SHELL_LINE_MAX];

	while (sh.q_count) {
		memcpy(line, sh.queue[sh.q_head], SHELL_LINE_MAX);
		sh.q_head = (sh.q_head + 1) % SHELL_QUEUE;
		sh.q_count--;
		shell_prompt_break();
		sh.busy = true;
		shell_execute(line);
		sh.busy = false;
		shell_prompt_redraw();
	}
}
