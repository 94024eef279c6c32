// SPDX-License-Identifier: MIT
/*
 * probe-report's graphs, drawn by gnuplot (pngcairo) as bench/ draws its
 * own: speed and response time over time (one line per device up to
 * eight, else every download as a point; failed downloads as crosses on
 * the axis, congestion episodes shaded), the hour-of-day profile, and the
 * day-of-week x hour map when the history spans a week. Each graph's data
 * and script stay beside its PNG, so it can be redrawn or restyled.
 */
#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "common/log.h"
#include "probe_report/report.h"

extern char **environ;

enum { LINES_MAX = 8, SHADES_MAX = 200 };

static FILE *open_in(const char *dir, const char *name, char *path, size_t cap)
{
	FILE *f;

	snprintf(path, cap, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		pr_err("cannot write '%s': %s", path, strerror(errno));
	return f;
}

/* Runs gnuplot on script; 0 when it made its PNG. */
static int run_gnuplot(const char *script)
{
	char prog[] = "gnuplot", arg[4200];
	char *argv[] = { prog, arg, NULL };
	pid_t pid;
	int st;

	snprintf(arg, sizeof(arg), "%s", script);
	if (posix_spawnp(&pid, "gnuplot", NULL, NULL, argv, environ))
		return -ENOENT;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return -EIO;
	return 0;
}

/* Closes script f (at gp), draws it, and records the PNG in out. */
static int draw(FILE *f, const char *gp, const char *png, const char *title,
		struct xtel_pr_plot *out)
{
	if (fclose(f) || run_gnuplot(gp))
		return -EIO;
	*out = (struct xtel_pr_plot){ .file = png, .title = title };
	return 0;
}

static bool have_gnuplot(void)
{
	char prog[] = "gnuplot", e[] = "-e", cmd[] = "exit";
	char *argv[] = { prog, e, cmd, NULL };
	pid_t pid;
	int st;

	if (posix_spawnp(&pid, "gnuplot", NULL, NULL, argv, environ))
		return false;
	return waitpid(pid, &st, 0) >= 0 && WIFEXITED(st) && !WEXITSTATUS(st);
}

static void head(FILE *f, const char *dir, const char *png, const char *title)
{
	fprintf(f, "set terminal pngcairo size 960,480 noenhanced font 'sans,10'\n"
		"set output '%s/%s'\nset title '%s'\nset grid\n"
		"set key outside right top\n", dir, png, title);
}

static void time_axis(FILE *f, const struct xtel_probe_analysis *a)
{
	double span = (double)(a->summary.last_ns - a->summary.first_ns) / 1e9;

	fprintf(f, "set xdata time\nset timefmt '%%s'\nset format x '%s'\n"
		"set xlabel 'time (UTC)'\n",
		span > 3 * 86400 ? "%m-%d" : span > 3600 ? "%d %H:%M" : "%H:%M:%S");
}

/* The episodes as shaded rectangles behind the curves. */
static void shades(FILE *f, const struct xtel_probe_analysis *a)
{
	for (size_t i = 0; i < a->n_episodes && i < SHADES_MAX; i++)
		fprintf(f, "set object %zu rect from '%.3f', graph 0 to '%.3f', graph 1 "
			"behind fillcolor rgb '#f4c7c3' fillstyle solid 0.5 noborder\n",
			i + 1, (double)a->episodes[i].start_ns / 1e9,
			(double)a->episodes[i].end_ns / 1e9 + 0.001);
}

/*
 * series.dat: per device (index i) ts speed ttfb of its ok downloads;
 * failed.dat: ts of failed downloads. Returns the number of devices.
 */
static int write_series(const char *dir, const struct xtel_probe_samples *v,
			uint32_t *ids, int *n_ids, bool *any_failed)
{
	char path[4200];
	FILE *f = open_in(dir, "probe-series.dat", path, sizeof(path)),
	     *g = f ? open_in(dir, "probe-failed.dat", path, sizeof(path)) : NULL;
	uint32_t dev = 0;
	int n = 0;

	if (!f || !g) {
		if (f)
			fclose(f);
		return -EIO;
	}
	/* v is sorted by device and time (xtel_probe_analyze did it). */
	for (size_t i = 0; i < v->n; i++) {
		const struct xtel_probe_sample *s = &v->s[i];

		if (s->n > s->n_ok) {
			fprintf(g, "%.3f 0\n", (double)s->ts_ns / 1e9);
			*any_failed = true;
		}
		if (!s->n_ok || isnan(s->v[XTEL_PROBE_M_SPEED]))
			continue;
		if (s->device != dev) {
			if (n)
				fprintf(f, "\n\n");
			if (n < LINES_MAX)
				ids[n] = s->device;
			n++;
			dev = s->device;
		}
		fprintf(f, "%.3f %.3f %.3f\n", (double)s->ts_ns / 1e9,
			s->v[XTEL_PROBE_M_SPEED],
			isnan(s->v[XTEL_PROBE_M_TTFB]) ? 0 : s->v[XTEL_PROBE_M_TTFB]);
	}
	fprintf(g, "\n");
	fclose(f);
	fclose(g);
	*n_ids = n;
	return 0;
}

static int over_time(const char *dir, const struct xtel_probe_analysis *a,
		     const uint32_t *ids, int n_dev, bool failed, bool ttfb,
		     struct xtel_pr_plot *out)
{
	const char *png = ttfb ? "probe-ttfb.png" : "probe-speed.png";
	const char *title = ttfb ? "Response time (time to first byte) over time" :
				   "Download speed over time";
	char path[4200];
	FILE *f = open_in(dir, ttfb ? "probe-ttfb.gp" : "probe-speed.gp", path, sizeof(path));

	if (!f)
		return -EIO;
	head(f, dir, png, title);
	time_axis(f, a);
	shades(f, a);
	fprintf(f, "set ylabel '%s'\nset yrange [0:*]\n",
		ttfb ? "time to first byte (ms)" : "speed (Mbit/s)");
	fprintf(f, "plot ");
	if (n_dev <= LINES_MAX) {
		for (int i = 0; i < n_dev; i++)
			fprintf(f, "%s'%s/probe-series.dat' index %d using 1:%d with linespoints pt 7 ps 0.4 title 'device %u'",
				i ? ", \\\n     " : "", dir, i, ttfb ? 3 : 2, ids[i]);
	} else {
		fprintf(f, "'%s/probe-series.dat' using 1:%d with points pt 7 ps 0.3 title 'downloads (%d devices)'",
			dir, ttfb ? 3 : 2, n_dev);
	}
	if (failed)
		fprintf(f, ", \\\n     '%s/probe-failed.dat' using 1:2 with points pt 2 ps 1 lc rgb 'red' title 'failed'",
			dir);
	fprintf(f, "\n");
	return draw(f, path, png, title, out);
}

static int hours(const char *dir, const struct xtel_probe_analysis *a,
		 struct xtel_pr_plot *out)
{
	char path[4200], gp[4200];
	FILE *f = open_in(dir, "probe-hours.dat", path, sizeof(path));

	if (!f)
		return -EIO;
	for (int h = 0; h < 24; h++) {
		const struct xtel_probe_bucket *b = &a->hour[h];

		if (b->n)
			fprintf(f, "%d %.3f %.3f %.3f %llu\n", h, b->speed_mean,
				isnan(b->speed_sd) ? 0 : b->speed_sd,
				isnan(b->ttfb_mean) ? 0 : b->ttfb_mean,
				(unsigned long long)b->n);
	}
	fclose(f);
	f = open_in(dir, "probe-hours.gp", gp, sizeof(gp));
	if (!f)
		return -EIO;
	head(f, dir, "probe-hours.png", "Hour-of-day profile");
	fprintf(f, "set xlabel 'hour of day (UTC%+d min)'\nset xrange [-0.5:23.5]\n"
		"set xtics 0,1,23\nset ylabel 'mean speed (Mbit/s)'\nset yrange [0:*]\n"
		"set y2label 'mean time to first byte (ms)'\nset y2range [0:*]\nset y2tics\n"
		"set style fill solid 0.5\nset boxwidth 0.7\n"
		"plot '%s' using 1:2 with boxes lc rgb '#4e79a7' title 'speed', \\\n"
		"     '' using 1:2:3 with yerrorbars lc rgb 'black' pt 0 title 'speed sd', \\\n"
		"     '' using 1:4 axes x1y2 with linespoints lw 2 lc rgb '#e15759' title 'ttfb'\n",
		a->cfg.tz_offset_min, path);
	return draw(f, gp, "probe-hours.png", "Hour-of-day profile", out);
}

static int week(const char *dir, const struct xtel_probe_analysis *a,
		struct xtel_pr_plot *out)
{
	char path[4200], gp[4200];
	FILE *f = open_in(dir, "probe-week.dat", path, sizeof(path));

	if (!f)
		return -EIO;
	for (int d = 0; d < 7; d++) {
		for (int h = 0; h < 24; h++) {
			double m = a->week[d * 24 + h].speed_mean;

			if (isnan(m))
				fprintf(f, "%d %d NaN\n", h, d);
			else
				fprintf(f, "%d %d %.3f\n", h, d, m);
		}
		fprintf(f, "\n");
	}
	fclose(f);
	f = open_in(dir, "probe-week.gp", gp, sizeof(gp));
	if (!f)
		return -EIO;
	head(f, dir, "probe-week.png", "Mean speed by day of week and hour (Mbit/s)");
	fprintf(f, "set xlabel 'hour of day'\nset xrange [-0.5:23.5]\nset xtics 0,1,23\n"
		"set yrange [6.5:-0.5]\n"
		"set ytics ('Sun' 0, 'Mon' 1, 'Tue' 2, 'Wed' 3, 'Thu' 4, 'Fri' 5, 'Sat' 6)\n"
		"set palette defined (0 '#d73027', 0.5 '#fee08b', 1 '#1a9850')\n"
		"plot '%s' using 1:2:3 with image notitle\n", path);
	return draw(f, gp, "probe-week.png", "Mean speed by day of week and hour", out);
}

int xtel_pr_plots(const char *dir, const struct xtel_probe_analysis *fleet,
		  const struct xtel_probe_samples *v, struct xtel_pr_plot *plots)
{
	uint32_t ids[LINES_MAX];
	int n = 0, n_dev = 0;
	bool failed = false;

	if (!have_gnuplot()) {
		pr_warn("gnuplot not found: no graphs (scripts/deps.sh installs gnuplot-nox)");
		return 0;
	}
	if (!fleet->summary.downloads)
		return 0;
	if (write_series(dir, v, ids, &n_dev, &failed))
		return -EIO;
	if (over_time(dir, fleet, ids, n_dev, failed, false, &plots[n]) == 0)
		n++;
	if (over_time(dir, fleet, ids, n_dev, failed, true, &plots[n]) == 0)
		n++;
	if (hours(dir, fleet, &plots[n]) == 0)
		n++;
	if (fleet->weekly && week(dir, fleet, &plots[n]) == 0)
		n++;
	return n;
}
